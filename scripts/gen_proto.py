"""Regenerate the Python stubs of the v1 contract: proto/turnwise/v1/*.proto -> turnwise/v1/.

Usage: python scripts/gen_proto.py [OUT_ROOT]   (default: the repository root)

The generated modules keep the proto package path as their import path
(package turnwise.v1 -> import turnwise.v1.network_pb2), so no import rewriting is
needed. tests/test_proto_stubs.py regenerates into a temporary directory and fails
when the committed stubs differ.
"""

from __future__ import annotations

import sys
from pathlib import Path

from grpc_tools import protoc

ROOT = Path(__file__).resolve().parents[1]
PROTO_ROOT = ROOT / "proto"


def generate(out_root: Path) -> list[Path]:
    protos = sorted(PROTO_ROOT.glob("turnwise/v1/*.proto"))
    include = Path(protoc.__file__).parent / "_proto"
    args = [
        "grpc_tools.protoc",
        f"-I{PROTO_ROOT}",
        f"-I{include}",
        f"--python_out={out_root}",
        f"--pyi_out={out_root}",
        f"--grpc_python_out={out_root}",
        *(str(p.relative_to(PROTO_ROOT)) for p in protos),
    ]
    if protoc.main(args) != 0:
        raise SystemExit("protoc failed")
    pkg = out_root / "turnwise" / "v1"
    init = pkg / "__init__.py"
    init.write_text(
        '"""Generated from proto/turnwise/v1 by scripts/gen_proto.py. Do not edit."""\n'
    )
    return sorted(pkg.glob("*"))


if __name__ == "__main__":
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT
    for path in generate(out):
        print(path)
