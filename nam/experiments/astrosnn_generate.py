"""Text sampled from a character model checkpoint written by `nam astrosnn lm` (`nam astrosnn generate`)."""

import dataclasses
from typing import ClassVar

from .._checks import check_instance, check_int, check_number
from ..astrosnn._text import Vocab
from ..astrosnn._training import load_model, sample_text
from ._base import AbstractExperiment, option


@dataclasses.dataclass(frozen=True)
class AstroSNNGenerate(AbstractExperiment):
    """`nam astrosnn generate CHECKPOINT`: `chars` characters sampled after `prompt`; writes nothing."""

    command: ClassVar[str] = "astrosnn generate"
    summary: ClassVar[str] = "sample text from a trained character model checkpoint"
    errors: ClassVar[tuple[type[BaseException], ...]] = (ValueError, FileNotFoundError, RuntimeError, KeyError)

    checkpoint: str = option(
        "",
        "a checkpoint written by `nam astrosnn lm` (e.g. nam_output/astrosnn_lm/runs/shakespeare_astrosnn_seed0.eqx)",
        positional=True,
        metavar="CHECKPOINT",
    )
    prompt: str = option("ROMEO:\n", "text to start from (characters of the training data; \\n is a newline)")
    chars: int = option(300, "characters to generate")
    temperature: float = option(0.8, "sampling temperature (1: the model's distribution; lower: more conservative)")
    seed: int = option(0, "random seed of the sampling")
    out: None = dataclasses.field(default=None, init=False)

    def __post_init__(self):
        check_instance("checkpoint", self.checkpoint, str, "the path of a checkpoint written by `nam astrosnn lm`")
        if not self.checkpoint:
            raise ValueError("`checkpoint` must name a checkpoint written by `nam astrosnn lm`")
        check_instance("prompt", self.prompt, str, "text")
        object.__setattr__(self, "prompt", self.prompt.replace("\\n", "\n"))
        check_int("chars", self.chars)
        check_number("temperature", self.temperature, minimum=0.0, open_min=True)
        check_int("seed", self.seed, 0)

    def run(self, *, progress: bool = True) -> str:
        model, config = load_model(self.checkpoint)
        if "vocab" not in config:
            raise ValueError(f"{self.checkpoint} is not a character model (no vocabulary in its config)")
        vocab = Vocab(config["vocab"])  # the characters the checkpoint was trained on
        return self.prompt + sample_text(
            model, vocab, self.prompt, self.chars, seed=self.seed, temperature=self.temperature
        )

    def format(self, result: str) -> str:
        return result

    def write(self, result: str, out_dir: str | None) -> list[str]:
        return []
