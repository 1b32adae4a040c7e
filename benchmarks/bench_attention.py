#!/usr/bin/env python
"""Benchmark: throughput of the neuron-astrocyte attention in closed form (`nam.attention.AstrocyteAttention`,
the read-mode fixed point of Kozachkov, Slotine & Krotov, Appendix C, eq. 25) against
`jax.nn.dot_product_attention` (softmax, XLA implementation), in the same run.

Batch B = 1, H = 4 heads of size d = 64 (queries, keys, values (B, T, H, d) from `jax.random.normal`),
M = 64 positive random features, float32; sequence lengths T = 256, 512, 1024, 2048, 4096, non-causal and
causal (the astrocyte layer's causal form in chunks of 128; `dot_product_attention(is_causal=True)`).
Forward pass only, each jitted and compiled beforehand; the callables timed round-robin (`_harness.interleaved`,
so both see the same machine load), the median of the repeats; tokens/s = B T / median; the ratio
softmax time / astrocyte time (> 1: the astrocyte layer is faster). The crossover is the shortest T from which
the astrocyte layer is faster at every longer T measured.

    python benchmarks/bench_attention.py            # writes benchmarks/results/attention_throughput.json
    python benchmarks/bench_attention.py --quick    # T = 256, 1024; prints only
"""

import argparse

from _harness import environment, interleaved, loadavg, medians, result_path, write_result

B, H, D, M = 1, 4, 64, 64


def crossover(lengths, ratio):
    """The shortest T from which every ratio (softmax / astrocyte time) is > 1; None if there is none."""
    best = None
    for t in reversed(lengths):
        if ratio[t] <= 1:
            break
        best = t
    return best


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()

    import jax
    import jax.random as jr

    from nam.attention import AstrocyteAttention, PositiveRandomFeatures

    lengths = (256, 1024) if args.quick else (256, 512, 1024, 2048, 4096)
    features = PositiveRandomFeatures(D, M, seed=0)
    rows = {}
    for causal in (False, True):
        layer = AstrocyteAttention(features, causal=causal, chunk=128)
        # (B, T, H, d) -> vmap over batch and heads
        astro = jax.jit(jax.vmap(jax.vmap(layer, in_axes=1, out_axes=1)))
        soft = jax.jit(lambda q, k, v, causal=causal: jax.nn.dot_product_attention(q, k, v, is_causal=causal))
        for t in lengths:
            q, k, v = (jr.normal(jr.PRNGKey(i), (B, t, H, D)) for i in range(3))
            a, s = astro(q, k, v), soft(q, k, v)
            rel = float(abs(a - s).mean() / abs(s).mean())
            times = interleaved({"astrocyte": lambda: astro(q, k, v), "softmax": lambda: soft(q, k, v)}, args.repeats)
            med = medians(times)
            row = {
                "T": t,
                "causal": causal,
                "astrocyte_s": med["astrocyte"],
                "softmax_s": med["softmax"],
                "astrocyte_tokens_per_s": B * t / med["astrocyte"],
                "softmax_tokens_per_s": B * t / med["softmax"],
                "softmax_over_astrocyte": med["softmax"] / med["astrocyte"],
                "mean_abs_rel_difference": rel,
                "loadavg": loadavg(),
            }
            rows[(causal, t)] = row
            print(
                f"{'causal' if causal else 'full':<7} T={t:<5} astrocyte {med['astrocyte'] * 1e3:8.2f} ms  "
                f"softmax {med['softmax'] * 1e3:8.2f} ms  softmax/astrocyte {row['softmax_over_astrocyte']:.2f}",
                flush=True,
            )
    result = {
        "env": environment(),
        "sizes": {
            "batch": B,
            "heads": H,
            "head_dim": D,
            "features": M,
            "dtype": "float32",
            "chunk": 128,
            "repeats": args.repeats,
        },
        "rows": list(rows.values()),
    }
    for causal in (False, True):
        name = "causal" if causal else "full"
        ratio = {t: rows[(causal, t)]["softmax_over_astrocyte"] for t in lengths}
        result[f"crossover_{name}"] = crossover(lengths, ratio)
        print(f"{name}: the astrocyte layer is faster from T = {result['crossover_' + name]} on")
    if not args.quick:
        write_result(result_path("attention_throughput.json"), result)


if __name__ == "__main__":
    main()
