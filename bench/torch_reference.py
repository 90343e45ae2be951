"""The reference MLP in PyTorch, trained the way poke trains it, for bench/backends.js.

1024 -> 512 -> 512 -> 10, ReLU, Adam(1e-3), batch 512, masked softmax cross-entropy
(illegal actions pushed to -1e9 before the softmax). Prints one JSON line:
{"samples_per_sec": ..., "threads": ..., "blas": ...}.
"""
import ctypes
import json
import sys
import time

import torch

STEPS = int(sys.argv[1]) if len(sys.argv) > 1 else 50
BATCH, FEATURES, ACTIONS = 512, 1024, 10

torch.manual_seed(1)
model = torch.nn.Sequential(
    torch.nn.Linear(FEATURES, 512), torch.nn.ReLU(),
    torch.nn.Linear(512, 512), torch.nn.ReLU(),
    torch.nn.Linear(512, ACTIONS),
)
optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
x = torch.randn(BATCH, FEATURES)
masks = (torch.rand(BATCH, ACTIONS) < 0.7).float()
masks[torch.arange(BATCH), 0] = 1.0
labels = torch.zeros(BATCH, dtype=torch.long)


def step():
    optimizer.zero_grad(set_to_none=True)
    logits = model(x) + (masks - 1.0) * 1e9
    loss = torch.nn.functional.cross_entropy(logits, labels)
    loss.backward()
    optimizer.step()
    return loss.item()


for _ in range(5):
    step()
start = time.perf_counter()
for _ in range(STEPS):
    step()
seconds = time.perf_counter() - start


def blas_description():
    """Debian's torch calls whatever libblas.so.3 the alternatives system points at: say which one."""
    config = torch.__config__.show()
    info = config.split("BLAS_INFO=", 1)[1].split(",", 1)[0] if "BLAS_INFO=" in config else "unknown"
    try:
        lib = ctypes.CDLL("libblas.so.3")
        lib.openblas_get_config.restype = ctypes.c_char_p
        return f"{lib.openblas_get_config().decode().split(' ')[1]} OpenBLAS, {lib.openblas_get_num_threads()} BLAS threads"
    except (OSError, AttributeError):
        return f"BLAS {info} (not OpenBLAS: expect ~30x slower; apt-get install libopenblas0-pthread)"


print(json.dumps({"samples_per_sec": STEPS * BATCH / seconds, "version": torch.__version__, "threads": torch.get_num_threads(), "blas": blas_description()}))
