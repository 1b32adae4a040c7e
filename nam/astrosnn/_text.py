"""Character-level text for language modelling (`nam astrosnn lm`): the embedded corpora, Tiny Shakespeare
and Python source (`data/PROVENANCE.md`, read by `nam._data.load_text`), a character vocabulary that
refuses what it does not know, the 90/10 split and random training windows."""

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np

from .._checks import check_choice, check_instance, check_int, check_key, check_memory, check_number
from .._data import load_text as load_text


class Vocab:
    """The sorted distinct characters of a text; `encode` raises on characters outside it."""

    def __init__(self, chars: str):
        check_instance("chars", chars, str, "a string of distinct characters")
        if not chars or len(set(chars)) != len(chars):
            raise ValueError(f"`chars` must be a non-empty string of distinct characters, got {chars!r}")
        self.chars = chars
        self._index = {c: i for i, c in enumerate(chars)}

    @classmethod
    def from_text(cls, text: str) -> "Vocab":
        return cls("".join(sorted(set(text))))

    def __len__(self) -> int:
        return len(self.chars)

    def __eq__(self, other) -> bool:
        return isinstance(other, Vocab) and other.chars == self.chars

    def __hash__(self) -> int:  # equal vocabularies hash alike: a Vocab is a static field of CharData
        return hash(self.chars)

    def encode(self, text: str) -> np.ndarray:
        unknown = sorted(set(text) - set(self._index))
        if unknown:
            raise ValueError(
                f"the text has characters outside the model's vocabulary of {len(self)}: {''.join(unknown)!r}"
            )
        return np.fromiter((self._index[c] for c in text), dtype=np.int32, count=len(text))

    def decode(self, ids) -> str:
        ids = np.asarray(ids)
        if ids.size and (ids.min() < 0 or ids.max() >= len(self)):
            raise ValueError(f"token ids must lie in [0, {len(self)}), got {ids.min()}..{ids.max()}")
        return "".join(self.chars[int(i)] for i in ids.reshape(-1))

    def check_matches(self, other: "Vocab", what: str = "checkpoint") -> None:
        """Raise if `other` (e.g. the vocabulary saved with a checkpoint) differs from this one."""
        if other != self:
            extra, missing = sorted(set(other.chars) - set(self.chars)), sorted(set(self.chars) - set(other.chars))
            raise ValueError(
                f"vocabulary mismatch between the {what} ({len(other)} characters) and the data "
                f"({len(self)}): {what} only {''.join(extra)!r}, data only {''.join(missing)!r}"
                + ("" if extra or missing else ", same characters in another order")
            )


class CharData(eqx.Module):
    """Encoded train/validation splits (first `train_fraction` of the characters for training)."""

    train: jax.Array
    val: jax.Array
    vocab: Vocab = eqx.field(static=True)

    def __init__(self, text: str, train_fraction: float = 0.9, vocab: Vocab | None = None):
        check_instance("text", text, str, "a string")
        if len(text) < 2:
            raise ValueError(
                f"`text` must hold at least 2 characters (a training and a validation split), got {text!r}"
            )
        check_number("train_fraction", train_fraction, minimum=0.0, maximum=1.0, open_min=True, open_max=True)
        if vocab is not None:
            check_instance("vocab", vocab, Vocab, "a nam.astrosnn.Vocab or None")
        self.vocab = vocab or Vocab.from_text(text)
        ids = self.vocab.encode(text)
        cut = int(train_fraction * len(ids))
        self.train, self.val = jnp.asarray(ids[:cut]), jnp.asarray(ids[cut:])

    def batch(self, key, size: int, length: int, split: str = "train"):
        """`size` random windows: inputs (size, length) and next-character targets (size, length)."""
        key = check_key("key", key)
        size, length = check_int("size", size), check_int("length", length)
        split = check_choice("split", split, ("train", "val"))
        check_memory("`size`, `length`", 3.0 * 4 * float(size) * (length + 1), f"{size} windows of {length} characters")
        data = self.train if split == "train" else self.val
        if data.shape[0] <= length + 1:
            raise ValueError(f"the {split} split ({data.shape[0]} characters) is shorter than a window ({length + 1})")
        starts = jr.randint(key, (size,), 0, data.shape[0] - length - 1)
        win = jax.vmap(lambda s: jax.lax.dynamic_slice(data, (s,), (length + 1,)))(starts)
        return win[:, :-1], win[:, 1:]

    def val_windows(self, length: int, max_windows: int | None = None):
        """Consecutive non-overlapping validation windows (inputs, targets), each (n, length)."""
        n = (self.val.shape[0] - 1) // length
        if max_windows is not None:
            n = min(n, max_windows)
        x = self.val[: n * length].reshape(n, length)
        y = self.val[1 : n * length + 1].reshape(n, length)
        return x, y
