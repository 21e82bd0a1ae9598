# binsum._core has its pure-Python twin's signatures: binsum._pycore is the
# source of truth (stubtest checks the compiled kernel against it, .ci/run).
# Arrays are C-contiguous; float64 weights of shapes (2, H), (H, H), (H, 1);
# int64 operands.
from binsum._pycore import exp as exp
from binsum._pycore import forward_logits as forward_logits
from binsum._pycore import hidden_states as hidden_states
from binsum._pycore import loss_and_gradients as loss_and_gradients
from binsum._pycore import predict as predict
from binsum._pycore import prefix_depth as prefix_depth
from binsum._pycore import prefix_table as prefix_table
from binsum._pycore import sigmoid as sigmoid
from binsum._pycore import train as train
from binsum._pycore import work_size as work_size
