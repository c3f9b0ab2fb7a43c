"""selfhost: should we call a hosted LLM API or run open-weight models on our own GPUs?"""

__version__ = "0.1.0"
