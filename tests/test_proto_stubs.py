"""The committed stubs in turnwise/v1 are exactly what the .proto files generate.

protoc runs in a child process: grpc_tools' compiler and OR-Tools each carry their own C++
protobuf library, and loading the compiler into a process that has imported OR-Tools (as
the pick-up tests do) aborts it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_committed_stubs_match_the_protos(tmp_path: Path) -> None:
    run = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "gen_proto.py"), str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    generated = sorted((tmp_path / "turnwise" / "v1").glob("*"))
    committed_dir = ROOT / "turnwise" / "v1"
    names = sorted(p.name for p in generated)
    assert names == sorted(
        p.name for p in committed_dir.iterdir() if p.is_file() and p.suffix != ".pyc"
    )
    stale = [p.name for p in generated if p.read_bytes() != (committed_dir / p.name).read_bytes()]
    assert stale == [], f"stale stubs {stale}: run `python scripts/gen_proto.py` and commit"


def _undocumented(f) -> list[str]:  # type: ignore[no-untyped-def]
    """Elements of one FileDescriptorProto without a leading comment."""
    commented = {
        tuple(loc.path) for loc in f.source_code_info.location if loc.leading_comments.strip()
    }
    missing = []
    for i, service in enumerate(f.service):
        if (6, i) not in commented:
            missing.append(service.name)
        missing += [
            f"{service.name}.{m.name}"
            for j, m in enumerate(service.method)
            if (6, i, 2, j) not in commented
        ]

    def message(m, path: tuple[int, ...]) -> None:  # type: ignore[no-untyped-def]
        if m.options.map_entry:  # generated for map<> fields: no source to comment
            return
        if path not in commented:
            missing.append(m.name)
        missing.extend(
            f"{m.name}.{fd.name}" for j, fd in enumerate(m.field) if (*path, 2, j) not in commented
        )
        for j, nested in enumerate(m.nested_type):
            message(nested, (*path, 3, j))

    for i, m in enumerate(f.message_type):
        message(m, (4, i))
    for i, e in enumerate(f.enum_type):
        if (5, i) not in commented:
            missing.append(e.name)
        missing += [
            v.name
            for j, v in enumerate(e.value)
            if (5, i, 2, j) not in commented and not v.name.endswith("_UNSPECIFIED")
        ]
    return missing


def test_every_element_of_the_contract_is_documented(tmp_path: Path) -> None:
    """Every service, RPC, message, field, enum and enum value has a leading comment."""
    import importlib.util

    from google.protobuf import descriptor_pb2

    root = ROOT / "proto"
    protos = sorted(str(p.relative_to(root)) for p in root.glob("turnwise/v1/*.proto"))
    spec = importlib.util.find_spec("grpc_tools")  # located, not imported (see above)
    assert spec is not None and spec.submodule_search_locations is not None
    include = Path(next(iter(spec.submodule_search_locations))) / "_proto"
    target = tmp_path / "descriptor.pb"
    args = [
        sys.executable,
        "-m",
        "grpc_tools.protoc",
        f"-I{root}",
        f"-I{include}",
        "--include_source_info",
        f"--descriptor_set_out={target}",
    ]
    run = subprocess.run([*args, *protos], capture_output=True, text=True, timeout=120, check=False)
    assert run.returncode == 0, run.stderr
    fds = descriptor_pb2.FileDescriptorSet.FromString(target.read_bytes())
    missing = [f"{f.name}: {name}" for f in fds.file for name in _undocumented(f)]
    assert missing == [], f"undocumented: {missing}"
