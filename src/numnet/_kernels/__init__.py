"""Pure-ndarray kernels (level L1): im2col/col2im, convolution and pooling loops.

Nothing here knows about Tensors or autograd; ``numnet.functional`` wraps these
functions into differentiable ops.
"""
