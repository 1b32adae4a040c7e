"""AstroSNN (Shen et al., arXiv 2312.07625), reconstructed from the paper's Figure 1.

`_surrogate.py`: spike functions with surrogate gradients; `_amsu.py`: the astrocyte-modulated spiking
unit (AM-SU), its recurrent and chunked parallel forms; `_models.py`: the AstroSNN network and its
baselines (LIF-SNN, LSTM/GRU, transformer) with one interface; `_tasks.py`: associative recall and
delayed copy; `_text.py`: character data (Tiny Shakespeare, Python source) and vocabularies;
`_training.py`: training, evaluation and sampling (and `LM_ASSUMPTIONS`, the language-model defaults);
`_diagnostics.py`: what the astrocyte read contributes to a trained model (ablation, trace);
`_experiments.py`: the experiments behind `nam astrosnn` (results files, tables, figures).
"""

from ._amsu import AMSU as AMSU
from .._data import CORPORA as CORPORA
from ._diagnostics import astrocyte_trace as astrocyte_trace, remove_astrocyte_read as remove_astrocyte_read
from ._experiments import (
    LM_MODELS as LM_MODELS,
    format_lm as format_lm,
    summarise_lm as summarise_lm,
    format_retention as format_retention,
    write_lm_figure as write_lm_figure,
    write_retention_figure as write_retention_figure,
)
from ._training import (
    LM_ASSUMPTIONS as LM_ASSUMPTIONS,
    bits_per_char as bits_per_char,
    load_model as load_model,
    make_sequence_optimizer as make_sequence_optimizer,
    retention_accuracy as retention_accuracy,
    sample_text as sample_text,
    sequence_loss as sequence_loss,
    train_lm as train_lm,
    train_retention as train_retention,
)
from ._models import (
    MODEL_KINDS as MODEL_KINDS,
    AstroSNN as AstroSNN,
    AstrocyteAttentionLM as AstrocyteAttentionLM,
    RNNLM as RNNLM,
    TransformerLM as TransformerLM,
    build_model as build_model,
    generate as generate,
    match_width as match_width,
    parameter_count as parameter_count,
)
from ._surrogate import SURROGATES as SURROGATES, spike as spike, surrogate_derivative as surrogate_derivative
from ._tasks import RetentionTask as RetentionTask
from ._text import CharData as CharData, Vocab as Vocab, load_text as load_text
