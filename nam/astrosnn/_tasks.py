"""Memory-retention tasks (`nam astrosnn retention`): associative recall and delayed copy, with a delay of blank
tokens between what must be remembered and when it is asked for.

Token ids: 0 = blank, 1 = go/start marker, then the task's symbols. Every sequence has the fixed
`length` (the longest delay, rounded up to a multiple of `multiple`); shorter ones are left-padded with
blanks, so one compiled model serves every delay.

- "recall": P key-value pairs k_1 v_1 ... k_P v_P (distinct keys out of `keys`, values out of `values`),
  `delay` blanks, then the P keys again in a random order; the target at each of them is its value
  (multi-query associative recall, as in Arora et al. 2023, "Zoology"; chance 1/values).
- "copy": go s_1 ... s_L (L distinct symbols out of `symbols`), `delay` blanks, then go s_1 ... s_{L-1}:
  the model must emit s_1 ... s_L after the second go, each step seeing the previous correct symbol
  (teacher forcing, as in language modelling). Accuracy is per symbol (chance about 1/symbols).
"""

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.random as jr

from .._checks import check_choice, check_int, check_key, check_memory

BLANK, GO = 0, 1


class RetentionTask(eqx.Module):
    """A retention task (module docstring); `sample(key, delay)` gives (tokens, targets, mask), each (length,)."""

    kind: str = eqx.field(static=True)
    max_delay: int = eqx.field(static=True)
    length: int = eqx.field(static=True)
    pairs: int = eqx.field(static=True)
    keys: int = eqx.field(static=True)
    values: int = eqx.field(static=True)
    copy_length: int = eqx.field(static=True)
    symbols: int = eqx.field(static=True)

    def __init__(
        self,
        kind: str = "recall",
        max_delay: int = 256,
        *,
        multiple: int = 32,
        pairs: int = 4,
        keys: int = 16,
        values: int = 16,
        copy_length: int = 8,
        symbols: int = 16,
    ):
        self.kind = check_choice("task", kind, ("recall", "copy"))
        self.max_delay = check_int("max_delay", max_delay, 0)
        check_int("multiple", multiple)
        self.pairs, self.keys, self.values = (
            check_int(n, v) for n, v in (("pairs", pairs), ("keys", keys), ("values", values))
        )
        self.copy_length, self.symbols = check_int("copy_length", copy_length), check_int("symbols", symbols)
        if kind == "recall" and pairs > keys:
            raise ValueError(f"`pairs` ({pairs}) must not exceed `keys` ({keys}): keys are distinct")
        if kind == "copy" and copy_length > symbols:
            raise ValueError(
                f"`copy_length` ({copy_length}) must not exceed `symbols` ({symbols}): symbols are distinct"
            )
        need = self.max_delay + self._fixed_tokens
        self.length = -(-need // multiple) * multiple

    @property
    def _fixed_tokens(self) -> int:
        return 3 * self.pairs if self.kind == "recall" else 2 * self.copy_length + 1

    @property
    def vocab(self) -> int:
        return 2 + (self.keys + self.values if self.kind == "recall" else self.symbols)

    @property
    def chance(self) -> float:
        return 1.0 / (self.values if self.kind == "recall" else self.symbols)

    def check_delay(self, delay) -> int:
        """`delay` as an int: a TypeError if it is not an integer, a ValueError if outside [0, max_delay]."""
        delay = check_int("delay", delay, 0)
        if delay > self.max_delay:
            raise ValueError(f"`delay` must be an integer in [0, max_delay = {self.max_delay}], got {delay}")
        return delay

    def sample(self, key, delay):
        """One sequence with `delay` blanks. A Python integer is checked against [0, max_delay]; an array
        must lie there (it is not checked: traced, it cannot be, and outside the sequence would be clipped)."""
        if not isinstance(delay, jax.Array):
            self.check_delay(delay)
        t = self.length
        k1, k2, k3 = jr.split(key, 3)
        if self.kind == "recall":
            ks = 2 + jr.permutation(k1, self.keys)[: self.pairs]
            vs = 2 + self.keys + jr.randint(k2, (self.pairs,), 0, self.values)
            prefix = jnp.stack([ks, vs], axis=1).reshape(-1)
            order = jr.permutation(k3, self.pairs)
            tail, answer = ks[order], vs[order]
        else:
            s = 2 + jr.permutation(k1, self.symbols)[: self.copy_length]
            prefix = jnp.concatenate([jnp.array([GO]), s])
            tail = jnp.concatenate([jnp.array([GO]), s[:-1]])
            answer = s
        delay = jnp.asarray(delay, jnp.int32)
        tokens = jnp.full((t,), BLANK, jnp.int32)
        tokens = jax.lax.dynamic_update_slice(
            tokens, prefix.astype(jnp.int32), (t - tail.shape[0] - delay - prefix.shape[0],)
        )
        tokens = tokens.at[t - tail.shape[0] :].set(tail.astype(jnp.int32))
        targets = jnp.zeros((t,), jnp.int32).at[t - answer.shape[0] :].set(answer.astype(jnp.int32))
        mask = jnp.zeros((t,), bool).at[t - answer.shape[0] :].set(True)
        return tokens, targets, mask

    def batch(self, key, size: int, delay=None):
        """`size` (>= 1) sequences; delay None draws each uniformly from 0..max_delay."""
        key = check_key("key", key)
        size = check_int("size", size)
        check_memory(
            "`size`, `max_delay`", 4.0 * 4 * float(size) * self.length, f"{size} sequences of {self.length} tokens"
        )
        kd, ks = jr.split(key)
        if delay is not None and not isinstance(delay, jax.Array):
            delay = self.check_delay(delay)
        delays = jr.randint(kd, (size,), 0, self.max_delay + 1) if delay is None else jnp.full((size,), delay)
        return jax.vmap(self.sample)(jr.split(ks, size), delays)
