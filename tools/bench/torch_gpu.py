"""What the PyTorch benchmarks (torch_dcgan.py, torch_stylegan2.py) set up on a GPU, in one place:
imported by both (they run from any directory: Python puts a script's own folder on its path)."""
import torch


def cuda_fp32_setup(dev):
    """cuDNN benchmark mode (it times the algorithms of each new shape and keeps the fastest)
    and TF32 off for matmuls and convolutions (PyTorch allows it for cuDNN convolutions by
    default). Returns the JSON fields that say so."""
    torch.backends.cudnn.benchmark = True
    matmul, cudnn = torch.backends.cuda.matmul, torch.backends.cudnn
    if hasattr(cudnn, "conv"):  # PyTorch >= 2.9: fp32_precision (allow_tf32 is deprecated there)
        matmul.fp32_precision = "ieee"
        cudnn.conv.fp32_precision = "ieee"
        tf32 = matmul.fp32_precision != "ieee" or cudnn.conv.fp32_precision != "ieee"
    else:
        matmul.allow_tf32 = False
        cudnn.allow_tf32 = False
        tf32 = matmul.allow_tf32 or cudnn.allow_tf32
    return {"fp32": "TF32 on" if tf32 else "ieee (TF32 off for matmuls and convolutions)",
            "cudnn_benchmark": bool(cudnn.benchmark), "gpu": torch.cuda.get_device_name(dev),
            "cudnn": cudnn.version(), "timing": "wall time between torch.cuda.synchronize() calls"}
