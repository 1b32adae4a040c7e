"""AstroSNN (Shen et al., arXiv 2312.07625), reconstructed from the paper's Figure 1.

`_surrogate.py`: spike functions with surrogate gradients; `_amsu.py`: the astrocyte-modulated spiking
unit (AM-SU), its recurrent and chunked parallel forms; `_models.py`: the AstroSNN network and its
baselines (LIF-SNN, LSTM/GRU, transformer) with one interface; `_tasks.py`: associative recall and
delayed copy; `_text.py`: character data (Tiny Shakespeare, Python source) and vocabularies;
`_training.py`: training, evaluation and sampling (and `LM_ASSUMPTIONS`, the language-model defaults,
`LM_VARIANTS` / `LM_MODELS`, the models of `nam astrosnn lm`); `_diagnostics.py`: what the astrocyte read
contributes to a trained model (ablation, trace). The experiments behind `nam astrosnn` (results files, tables,
figures) are `nam.experiments.AstroSNNRetention`, `AstroSNNLM` and `AstroSNNGenerate`.
"""

from .._data import CORPORA as CORPORA
from .._deprecation import moved_getattr as _moved_getattr
from ._amsu import AMSU as AMSU
from ._diagnostics import astrocyte_trace as astrocyte_trace
from ._diagnostics import remove_astrocyte_read as remove_astrocyte_read
from ._models import MODEL_KINDS as MODEL_KINDS
from ._models import RNNLM as RNNLM
from ._models import AstrocyteAttentionLM as AstrocyteAttentionLM
from ._models import AstroSNN as AstroSNN
from ._models import TransformerLM as TransformerLM
from ._models import build_model as build_model
from ._models import generate as generate
from ._models import match_width as match_width
from ._models import parameter_count as parameter_count
from ._surrogate import SURROGATES as SURROGATES
from ._surrogate import spike as spike
from ._surrogate import surrogate_derivative as surrogate_derivative
from ._tasks import RetentionTask as RetentionTask
from ._text import CharData as CharData
from ._text import Vocab as Vocab
from ._text import load_text as load_text
from ._training import LM_ASSUMPTIONS as LM_ASSUMPTIONS
from ._training import LM_MODELS as LM_MODELS
from ._training import LM_VARIANTS as LM_VARIANTS
from ._training import bits_per_char as bits_per_char
from ._training import load_model as load_model
from ._training import retention_accuracy as retention_accuracy
from ._training import sample_text as sample_text
from ._training import sequence_loss as sequence_loss
from ._training import train_lm as train_lm
from ._training import train_retention as train_retention

__getattr__ = _moved_getattr(
    "nam.astrosnn",
    {
        "make_sequence_optimizer": "nam.learning.make_optimizer (the sequence models' settings: "
        "make_optimizer('adamw', lr, schedule_steps=steps, clip=1.0, weight_decay=0.01))",
        "format_lm": "nam.experiments.astrosnn_lm.format_lm",
        "summarise_lm": "nam.experiments.astrosnn_lm.summarise_lm",
        "write_lm_figure": "nam.experiments.astrosnn_lm.write_lm_figure",
        "format_retention": "nam.experiments.astrosnn_retention.format_retention",
        "write_retention_figure": "nam.experiments.astrosnn_retention.write_retention_figure",
    },
)
