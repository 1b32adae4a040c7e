"""The sweep's trials and binary kernel: one batch of capacity trials as one program.

**Trials.** A trial draws K random +-1 memories of N bits and a cue: memory 0 with exactly
round(rho N) of its bits flipped (uniformly chosen positions). The memories are i.i.d., so which
one is the target does not matter; taking memory 0 saves a random draw. All randomness of a trial
comes from one `jax.random.bits` call on its key (one threefry program, cheap to compile): the
memories are the bits of `cap ceil(N/32)` words, the flip positions the order of N further words.
Rows K..cap-1 of a trial's memory array are padding (zero rows for the binary kernel, masked rows
for the continuous models), so one program serves every K up to `cap`.

**Binary kernel.** The asynchronous flip-difference dynamics of `nam.retrieve_binary(model, cue,
mode="async")` on `nam.ClassicalHopfield` / `nam.DenseAssociativeMemory` (sweeps of single-spin
updates in the order 0..N-1, ties keep the bit, at most `max_sweeps` sweeps; Krotov & Hopfield 2016,
eq. 3), written for throughput:

- Patterns are int8, laid out (N, B, cap) so that spin i's column of every trial in the batch is one
  contiguous (B, cap) block; overlaps m = Xi sigma are int32, updated after each spin by
  m += xi_i (new - old).
- The memories are visited in chunks of `chunk` columns, and only the first ceil(K / chunk) chunks
  are visited: the work is that of K memories, not of `cap`. Padding rows are zero, so they add
  nothing to any sum and no mask is carried.
- The flip difference sum_mu F(r_mu + a_mu) - F(r_mu - a_mu), with a_mu = xi_mu,i = +-1 and
  r_mu = m_mu - a_mu sigma_i the overlap without spin i, is evaluated in closed form: for F = z^n,
  (r + a)^n - (r - a)^n = 2 sum_{j odd} C(n, j) a^j r^(n-j), i.e. 4 a r (n = 2, the zero-diagonal
  Hopfield field sum_mu a m - K sigma_i), 2 a (3 r^2 + 1) (n = 3), 8 a r (r^2 + 1) (n = 4). Only the
  sign matters, so the positive common factor is dropped (`flip_polynomial`). Sums are exact in
  int32: two's-complement addition is exact modulo 2^32, so the total is exact whenever its true value
  is below 2^31 in magnitude (`int32_safe`; the engine refuses sizes where it is not).
- F = exp(beta z) (the exponential DAM) keeps its exact sign: exp(beta (r + a)) - exp(beta (r - a)) =
  2 sinh(beta) a exp(beta r), so the flip difference has the sign of sum_mu a_mu exp(beta (r_mu -
  max r)), evaluated in float32 after the max shift (no overflow).
- The B trials advance sweep by sweep in lock step. A trial whose sweep changed nothing is a fixed
  point and stops counting sweeps; one that reached `max_sweeps` is frozen. The batch ends when no
  trial is active.

tests/test_sweep_engine.py checks the final states, sweep counts and statuses against
`nam.retrieve_binary` on the same memories and cues, bit for bit.
"""

import math

import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Bool, Int, UInt32

from ..dynamics._status import Status

# ----------------------------------------------------------------------------------------------- trials


def draw_trials(
    entropy: tuple, batch: int, n: int, k: int, cap: int, words: int, rho: float, cues: int = 1
) -> tuple[np.ndarray, np.ndarray]:
    """The random inputs of `batch` trials in `batch // cues` memory sets of `cues` trials each, drawn on
    the host with numpy's PCG64 from `entropy` (a tuple of non-negative integers naming the row), the same
    on every backend and device count.

    Returns `words` (W, batch // cues, cap) uint32: bit i % 32 of words[i // 32, s, mu] is bit i of memory
    mu of set s (set: +1, clear: -1) for mu < K and i < N (zero words elsewhere); and `flips` (batch,
    32 W) bool: for every trial, exactly round(rho N) of the first N positions, chosen uniformly, are True
    (numpy's round, half to even, like `nam.flip_bits`). Trial b belongs to set b // cues. With `cues=1`
    every trial has its own set.
    """
    w_n = -(-n // 32)
    if words < w_n or k > cap:
        raise ValueError(f"`words` ({words}) must be >= ceil(N / 32) = {w_n} and K ({k}) <= `cap` ({cap})")
    if cues < 1 or batch % cues:
        raise ValueError(f"`cues` ({cues}) must divide `batch` ({batch})")
    sets = batch // cues
    rng = np.random.Generator(np.random.PCG64(np.random.SeedSequence(list(entropy))))
    out = np.zeros((words, sets, cap), np.uint32)
    out[:w_n, :, :k] = rng.integers(0, 2**32, size=(w_n, sets, k), dtype=np.uint32, endpoint=False)
    if n % 32:
        out[w_n - 1] &= np.uint32((1 << (n % 32)) - 1)  # bits beyond N are clear (never read)
    n_flip = int(np.round(rho * n))
    order = np.argsort(rng.random((batch, n)), axis=1)[:, :n_flip]
    flips = np.zeros((batch, 32 * words), bool)
    np.put_along_axis(flips, order, True, axis=1)
    return out, flips


def trial_targets(batch: int, cues: int, k: int) -> np.ndarray:
    """The memory each trial is cued from: trial b (cue c = b mod `cues` of its set) targets memory
    c mod K, so the cues of one set are drawn from different memories while K >= `cues` (with one cue per
    set, memory 0, as every trial of a binary row)."""
    return (np.arange(batch) % cues % max(1, k)).astype(np.int32)


def unpack(words: UInt32[Array, "w b c"], i, k, c0, chunk: int) -> Int[Array, "b chunk"]:
    """Bit i of memories c0 .. c0 + chunk - 1 of every trial as +-1 (int32), 0 for memories >= k."""
    b = words.shape[1]
    row = jnp.asarray(i >> 5)
    start = (row, jnp.zeros((), row.dtype), jnp.asarray(c0).astype(row.dtype))
    w = jax.lax.dynamic_slice(words, start, (1, b, chunk))[0]  # one slice, not the whole (B, cap) row
    a = ((w >> (i & 31).astype(jnp.uint32)) & jnp.uint32(1)).astype(jnp.int32) * 2 - 1
    return jnp.where((c0 + jnp.arange(chunk, dtype=jnp.int32))[None, :] < k, a, 0)


def memory_zero(words: UInt32[Array, "w b c"], n) -> Int[Array, "b nmax"]:
    """Memory 0 of every trial as +-1 (int32), 0 at the padding spins >= n."""
    nmax = words.shape[0] * 32
    spins = jnp.arange(nmax, dtype=jnp.int32)
    bits = (words[spins >> 5, :, 0] >> (spins & 31).astype(jnp.uint32)[:, None]) & jnp.uint32(1)
    t = bits.astype(jnp.int32).T * 2 - 1
    return jnp.where(spins[None, :] < n, t, 0)


# ---------------------------------------------------------------------------------------------- binary


def _gain(kind: str, degree: int, beta: float, a: Int[Array, "b chunk"], r: Int[Array, "b chunk"]) -> tuple:
    """A number with the sign of sum_mu F(r + a) - F(r - a) over one chunk of memories, per trial."""
    if kind == "exp":
        rf = r.astype(jnp.float32)
        active = a != 0
        top = jnp.max(jnp.where(active, rf, -jnp.inf), axis=-1, keepdims=True)
        top = jnp.where(jnp.isfinite(top), top, 0.0)
        return a.astype(jnp.float32) * jnp.where(active, jnp.exp(beta * (rf - top)), 0.0), top[:, 0]
    poly = jnp.zeros_like(r)
    for coef, power in flip_polynomial(degree):
        poly = poly + coef * r**power
    return jnp.sum(a * poly, axis=-1, dtype=jnp.int32), None


def _spin_gain(kind, degree, beta, words, m, i, s, k, n_chunks, chunk):
    """The flip difference of spin i for every trial, summed over the visited chunks of memories."""
    b = s.shape[0]

    def col(c):
        return unpack(words, i, k, c * chunk, chunk), jax.lax.dynamic_slice_in_dim(m, c * chunk, chunk, 1)

    if kind == "exp":
        # a running sum with a running max shift (the exponential's flip difference, exact in sign)
        def body(c, carry):
            total, top = carry
            a, mc = col(c)
            terms, ctop = _gain(kind, degree, beta, a, mc - a * s[:, None])
            new_top = jnp.maximum(top, ctop)
            total = total * jnp.exp(beta * (top - new_top)) + jnp.sum(terms, axis=-1, dtype=jnp.float32) * jnp.exp(
                beta * (ctop - new_top)
            )
            return total, new_top

        init = (jnp.zeros((b,), jnp.float32), jnp.full((b,), -1e30, jnp.float32))
        return jax.lax.fori_loop(0, n_chunks, body, init)[0]

    def body(c, g):
        a, mc = col(c)
        return g + _gain(kind, degree, beta, a, mc - a * s[:, None])[0]

    return jax.lax.fori_loop(0, n_chunks, body, jnp.zeros((b,), jnp.int32))


def _decide(gain, s):
    return jnp.where(gain > 0, 1, jnp.where(gain < 0, -1, s)).astype(s.dtype)


def overlaps(words: UInt32[Array, "w b c"], sigma: Int[Array, "b nmax"], n, k, chunk: int) -> Int[Array, "b c"]:
    """m[b, mu] = sum_{i < n} xi[b, mu, i] sigma[b, i] for the first ceil(K / chunk) chunks, exact in int32."""
    n_chunks = (k + chunk - 1) // chunk

    def spin(i, m):
        s = jax.lax.dynamic_index_in_dim(sigma, i, 1, True)

        def add(c, m):
            mc = jax.lax.dynamic_slice_in_dim(m, c * chunk, chunk, 1)
            return jax.lax.dynamic_update_slice_in_dim(m, mc + unpack(words, i, k, c * chunk, chunk) * s, c * chunk, 1)

        return jax.lax.fori_loop(0, n_chunks, add, m)

    return jax.lax.fori_loop(0, n, spin, jnp.zeros(words.shape[1:], jnp.int32))


def run_async(
    words: UInt32[Array, "w b c"],
    cue: Int[Array, "b nmax"],
    n,
    k,
    *,
    kind: str,
    degree: int = 0,
    beta: float = 1.0,
    max_sweeps: int = 100,
    chunk: int,
    stages: tuple = (1, 4),
):
    """Asynchronous sign dynamics of B trials from `cue` (B, Nmax) of +-1 (0 at padding spins) over the
    first N spins and the first K memories of `words`. Returns (final sigma (B, Nmax) int32, sweeps (B,)
    int32, status (B,) int32): CONVERGED when the last sweep changed nothing, SWEEP_LIMIT when the
    `max_sweeps`-th sweep still changed something. `stages`: the batch runs whole while more than
    B / stages[1] trials are still moving; then the moving
    trials (and their memories) are gathered into a batch of B / stages[1] and run on, and so on down the
    stages, so the sweeps after most trials have converged cost a fraction of a full batch's. Each trial's
    arithmetic is the same in any batch (integer sums), so the results are too.
    """
    b = cue.shape[0]
    n_chunks = (k + chunk - 1) // chunk
    sigma0 = cue.astype(jnp.int32)

    def body_for(words):
        def spin(i, carry):
            sigma, m = carry
            s = jax.lax.dynamic_index_in_dim(sigma, i, 1, False)
            new = _decide(_spin_gain(kind, degree, beta, words, m, i, s, k, n_chunks, chunk), s)
            delta = (new - s)[:, None]

            def upd(c, m):
                mc = jax.lax.dynamic_slice_in_dim(m, c * chunk, chunk, 1)
                return jax.lax.dynamic_update_slice_in_dim(
                    m, mc + unpack(words, i, k, c * chunk, chunk) * delta, c * chunk, 1
                )

            m = jax.lax.cond(jnp.any(delta != 0), lambda m: jax.lax.fori_loop(0, n_chunks, upd, m), lambda m: m, m)
            return jax.lax.dynamic_update_index_in_dim(sigma, new, i, 1), m

        def body(carry):
            sigma, m, sweeps, active, changed = carry
            new, m_new = jax.lax.fori_loop(0, n, spin, (sigma, m))
            moved = jnp.any(new != sigma, axis=1)
            # trials that stopped earlier keep their state (a converged one would not move anyway; one at
            # the sweep limit must not)
            sigma = jnp.where(active[:, None], new, sigma)
            m = jnp.where(active[:, None], m_new, m)
            sweeps = sweeps + active.astype(jnp.int32)
            changed = jnp.where(active, moved, changed)
            active = active & moved & (sweeps < max_sweeps)
            return sigma, m, sweeps, active, changed

        return body

    sizes = [b // s for s in stages if b % s == 0 and b // s >= 1]
    sizes = sorted(set(sizes), reverse=True)

    def run(words, carry, level):
        body = body_for(words)
        if level + 1 == len(sizes):
            return jax.lax.while_loop(lambda c: jnp.any(c[3]), body, carry)
        sub = sizes[level + 1]
        carry = jax.lax.while_loop(lambda c: jnp.sum(c[3]) > sub, body, carry)
        idx = jnp.argsort(~carry[3], stable=True)[:sub]  # the moving trials first, in batch order
        part = run(words[:, idx], jax.tree.map(lambda a: a[idx], carry), level + 1)
        return jax.tree.map(lambda a, p: a.at[idx].set(p), carry, part)

    init = (
        sigma0,
        overlaps(words, sigma0, n, k, chunk),
        jnp.zeros((b,), jnp.int32),
        jnp.ones((b,), bool),
        jnp.ones((b,), bool),
    )
    sigma, _, sweeps, _, changed = run(words, init, 0)
    status = jnp.where(changed, Status.SWEEP_LIMIT, Status.CONVERGED).astype(jnp.int32)
    return sigma, sweeps, status


def stable_bits(
    words: UInt32[Array, "w b c"],
    target: Int[Array, "b nmax"],
    n,
    k,
    *,
    kind: str,
    degree: int = 0,
    beta: float = 1.0,
    chunk: int,
) -> Bool[Array, "b nmax"]:
    """Criterion 1 per bit: does the single-spin rule, applied to bit i of the stored memory with every
    other bit held at the memory, keep it? (One sweep's work, without updating the state; True at the
    padding spins.)"""
    n_chunks = (k + chunk - 1) // chunk
    m = overlaps(words, target, n, k, chunk)

    def body(i, keep):
        s = jax.lax.dynamic_index_in_dim(target, i, 1, False)
        new = _decide(_spin_gain(kind, degree, beta, words, m, i, s, k, n_chunks, chunk), s)
        return jax.lax.dynamic_update_index_in_dim(keep, new == s, i, 1)

    return jax.lax.fori_loop(0, n, body, jnp.ones(target.shape, bool))


def flip_polynomial(degree: int) -> list[tuple[int, int]]:
    """(coefficient, power) pairs of ((r + a)^n - (r - a)^n) / (2 a g) for a = +-1, g the gcd of the
    coefficients: r (n = 2), 3 r^2 + 1 (n = 3), r^3 + r (n = 4). Positive factors do not change signs."""
    terms = [(math.comb(degree, j), degree - j) for j in range(1, degree + 1, 2)]
    g = math.gcd(*[c for c, _ in terms])
    return [(c // g, p) for c, p in terms]


def int32_safe(degree: int, n: int, k: int, *, sigmas: float = 20.0) -> bool:
    """Whether the int32 flip-difference sums of random memories stay exact at (N, K).

    The sum is the target memory's term, at most P(N) with P the reduced flip polynomial, plus K - 1
    terms P(r) of random sign with r ~ N(0, N): rms sqrt(E P(r)^2), E r^(2p) = (2p - 1)!! N^p. Partial
    sums may wrap (two's complement is exact modulo 2^32); only a total beyond 2^31 would be wrong.
    True when P(N) + `sigmas` sqrt(K E P(r)^2) < 2^31 (a 20-sigma excursion has probability < 1e-80).
    """
    terms = flip_polynomial(degree)
    signal = sum(c * n**p for c, p in terms)
    second = 0.0
    for c1, p1 in terms:
        for c2, p2 in terms:
            q = p1 + p2
            if q % 2 == 0:
                second += c1 * c2 * math.prod(range(q - 1, 0, -2)) * float(n) ** (q // 2)
    return signal + sigmas * math.sqrt(k * second) < 2**31
