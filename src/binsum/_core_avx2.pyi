# binsum._core_avx2 is binsum._core built for AVX2: the same signatures.
from binsum._core import exp as exp
from binsum._core import forward_logits as forward_logits
from binsum._core import hidden_states as hidden_states
from binsum._core import loss_and_gradients as loss_and_gradients
from binsum._core import predict as predict
from binsum._core import prefix_depth as prefix_depth
from binsum._core import prefix_table as prefix_table
from binsum._core import sigmoid as sigmoid
from binsum._core import train as train
from binsum._core import work_size as work_size
