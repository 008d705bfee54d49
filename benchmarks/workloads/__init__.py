"""Workload groups, one module each (``w1_w3_conv.py``, ...), auto-discovered."""
