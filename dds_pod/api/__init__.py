"""APIs of other platforms answered from the federation's merged graph (read through its read model)."""
