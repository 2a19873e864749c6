"""What export_whisper.py and export_caption.py share: tracing a part and
checking the traced graph against the eager module on other shapes than the
one it was traced with (tracing bakes shapes into a graph when a model's
Python branches on them), the tokenizer's files, and writing model.toml.
Written for transformers 4.4x and 5.x: no torchscript flag (5 removed it),
model outputs read by name, tokenizer files checked after saving."""
import argparse
import json
import os

import torch


def arguments(doc):
    """--model, --out (created) and --device, as both exporters take them."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("--model", required=True, help="hub name or folder")
    parser.add_argument("--out", required=True, help="the model folder to write")
    parser.add_argument("--device", default="auto", help="model.toml's devices entry")
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)
    return args


def trace(module, example, checks, path, atol=1e-4):
    """Traces `module` on `example` (a tuple of inputs), checks it against the
    eager module on each input tuple of `checks`, and saves it to `path`."""
    module = module.eval()
    with torch.no_grad():
        traced = torch.jit.trace(module, example, check_trace=False, strict=False)
        for inputs in checks:
            want, got = module(*inputs), traced(*inputs)
            if want.shape != got.shape or not torch.allclose(want, got, atol=atol, rtol=1e-3):
                raise SystemExit(f"{path}: the traced part differs from the model on inputs of "
                                 f"shapes {[tuple(i.shape) for i in inputs]}")
    torch.jit.save(traced, path)
    print(f"wrote {path}")


def backend_json(tokenizer):
    """The tokenizers library's JSON of a tokenizer it backs, or None."""
    backend = getattr(tokenizer, "backend_tokenizer", None)
    return json.loads(backend.to_str()) if backend is not None else None


def added_vocab(tokenizer):
    """Token → id of the tokens added to the base vocabulary (specials)."""
    if hasattr(tokenizer, "get_added_vocab"):
        return dict(tokenizer.get_added_vocab())
    return {t["content"]: t["id"] for t in backend_json(tokenizer)["added_tokens"]}


def save_vocabulary(tokenizer, out, names):
    """The base vocabulary's files (`names`: vocab.json and merges.txt for
    BPE, vocab.txt for WordPiece), as save_vocabulary writes them; written
    from the tokenizers library's JSON when a version writes them otherwise."""
    tokenizer.save_vocabulary(out)
    if all(os.path.exists(os.path.join(out, name)) for name in names):
        return
    model = backend_json(tokenizer)["model"]
    if "vocab.txt" in names:
        with open(os.path.join(out, "vocab.txt"), "w", encoding="utf-8") as f:
            f.writelines(t + "\n" for t, _ in sorted(model["vocab"].items(), key=lambda kv: kv[1]))
    else:
        write_json(os.path.join(out, "vocab.json"), model["vocab"])
        merges = [m if isinstance(m, str) else " ".join(m) for m in model["merges"]]
        with open(os.path.join(out, "merges.txt"), "w", encoding="utf-8") as f:
            f.write("#version: 0.2\n" + "".join(m + "\n" for m in merges))


def write_json(path, value):
    with open(path, "w", encoding="utf-8") as f:
        json.dump(value, f, ensure_ascii=False, indent=1)
    print(f"wrote {path}")


def toml_value(value):
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value)
    return "[" + ", ".join(toml_value(v) for v in value) + "]"


def write_model_toml(out, comment, backend, options, device):
    """model.toml for botmodels: the backend, the device, and [options]."""
    lines = [f"# {line}" for line in comment.splitlines()]
    lines += [f'backend = "{backend}"', f'devices = ["{device}"]', "preload = true",
              "# Generation takes seconds: more than the default minute for long audio.",
              "timeout_ms = 600000", "", "[options]"]
    lines += [f"{key} = {toml_value(value)}" for key, value in options.items()]
    path = os.path.join(out, "model.toml")
    with open(path, "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")
    print(f"wrote {path}")
