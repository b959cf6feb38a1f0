"""`make deb`: dist/villagenet-edge_<version>_<arch>.deb, the village box as an appliance (docs/appliance.md).

The package holds a virtualenv at /opt/villagenet/.venv on Debian's own python3.11: the project unpacked from its
release artifact (protocol/release_artifact.py, the same bytes a release carries) and the runtime dependencies
copied from the build's virtualenv (pure Python or manylinux wheels, so no compiler and no index are needed);
the systemd units, the sysusers file and the udev rule from deploy/; a default /etc/villagenet/edge.toml written
from the settings table; and maintainer scripts that honour DPKG_ROOT and can run twice. Built with dpkg-deb.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import shutil
import subprocess
import sys
import tomllib
import zipfile
from io import BytesIO
from pathlib import Path, PurePosixPath

from packaging.requirements import Requirement

from edge.config import SETTINGS
from protocol.release_artifact import build_artifact

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = "villagenet-edge"
PREFIX = PurePosixPath("/opt/villagenet/.venv")
PYTHON = "/usr/bin/python3.11"  # the interpreter the dependencies' compiled parts were built for (cp311)
SCRIPTS = {"village-edge": "edge.cli", "village-hub": "hub.cli", "village-provision": "hub.provision_cli"}
SCRIPTS_DIR = Path(__file__).resolve().parent / "scripts"
PLACES = {  # what deploy/ holds -> where the package puts it
    "systemd/village-edge.service": "usr/lib/systemd/system/village-edge.service",
    "systemd/village-stick-helper.service": "usr/lib/systemd/system/village-stick-helper.service",
    "systemd/village-stick-helper.socket": "usr/lib/systemd/system/village-stick-helper.socket",
    "sysusers/villagenet.conf": "usr/lib/sysusers.d/villagenet.conf",
    "udev/90-villagenet-usb.rules": "usr/lib/udev/rules.d/90-villagenet-usb.rules",
}
CONFIG = "etc/villagenet/edge.toml"


def project() -> dict[str, object]:
    with (ROOT / "pyproject.toml").open("rb") as f:
        return dict(tomllib.load(f)["project"])


def runtime_distributions() -> list[importlib.metadata.Distribution]:
    """The project's run-time dependencies and theirs, as installed in the virtualenv that builds the package."""
    wanted = [Requirement(r) for r in project()["dependencies"]]  # type: ignore[union-attr]
    found: dict[str, importlib.metadata.Distribution] = {}
    while wanted:
        req = wanted.pop()
        key = req.name.lower().replace("_", "-")
        if key in found or (req.marker is not None and not req.marker.evaluate({"extra": ""})):
            continue
        dist = importlib.metadata.distribution(req.name)
        found[key] = dist
        wanted += [Requirement(r) for r in dist.requires or []]
    return list(found.values())


def _site_packages(venv: Path) -> Path:
    return venv / "lib" / "python3.11" / "site-packages"


def _copy_distribution(dist: importlib.metadata.Distribution, site: Path) -> None:
    for file in dist.files or []:
        if ".." in file.parts or "__pycache__" in file.parts:
            continue  # console scripts outside site-packages (none are needed) and caches
        source = Path(str(dist.locate_file(file)))
        if source.is_file():
            target = site / file
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)


# What the packaged appliance sets unlike the defaults. Contract v2: the appliance turns TLS on, so the staff page
# (passwords, residents' phone numbers) is served over HTTPS with the certificate the city CA issues at enrollment.
APPLIANCE_SETTINGS = {"staff_tls_listen": "0.0.0.0:8443"}


def default_config() -> str:
    """Every edge setting, commented out at its default (the box runs on defaults until a line is uncommented),
    except the appliance's own choices, which are set."""
    lines = ["# VillageNet village edge settings (docs/settings.md). Uncomment a line to change it; this file is",
             "# read through the same settings table as DATA/config.toml, so a typo is refused with its name.", "",
             "# Set by the package (the appliance serves the staff page over HTTPS):"]
    lines += [f'{name} = "{value}"' for name, value in APPLIANCE_SETTINGS.items()]
    lines.append("")
    for s in SETTINGS.settings:
        if s.name in APPLIANCE_SETTINGS:
            continue
        if s.default is None:
            value = '""  # not set by default'
        elif isinstance(s.default, bool):
            value = "true" if s.default else "false"
        elif isinstance(s.default, str):
            value = f'"{s.default}"'
        else:
            value = repr(s.default)
        lines += [f"# {s.help}", f"# {s.name} = {value}", ""]
    return "\n".join(lines)


def _control(version: str, arch: str, installed_kb: int) -> str:
    return (f"Package: {PACKAGE}\nVersion: {version}\nArchitecture: {arch}\n"
            "Maintainer: VillageNet <villagenet@localhost>\n"
            "Depends: python3.11, systemd\nSection: net\nPriority: optional\n"
            f"Installed-Size: {installed_kb}\n"
            "Description: VillageNet village edge box\n"
            " The village box of VillageNet: serves the TV app and the staff page on the village network, syncs\n"
            " with the city hub over the dedicated line, reads technicians' USB sticks, and updates itself\n"
            " (A/B slots under /var/lib/villagenet/edge). Units: village-edge.service (unprivileged) and\n"
            " village-stick-helper.socket (the privileged stick opener).\n")


def build_deb(out_dir: Path, work: Path) -> Path:
    version = str(project()["version"])
    arch = subprocess.run(["dpkg", "--print-architecture"], check=True, capture_output=True,
                          text=True).stdout.strip()
    stage = work / "stage"
    shutil.rmtree(stage, ignore_errors=True)
    venv = stage / PREFIX.relative_to("/")
    site = _site_packages(venv)
    site.mkdir(parents=True)
    (venv / "bin").mkdir()
    (venv / "bin" / "python").symlink_to(PYTHON)
    (venv / "bin" / "python3").symlink_to("python")
    (venv / "lib64").symlink_to("lib")
    (venv / "pyvenv.cfg").write_text("home = /usr/bin\ninclude-system-site-packages = false\nversion = 3.11\n")
    with zipfile.ZipFile(BytesIO(build_artifact(ROOT, version))) as wheel:
        wheel.extractall(site)
        for member in wheel.infolist():
            (site / member.filename).chmod((member.external_attr >> 16) & 0o755)  # hooks stay programs
    for dist in runtime_distributions():
        _copy_distribution(dist, site)
    for script, module in SCRIPTS.items():
        path = venv / "bin" / script
        path.write_text(f"#!{PREFIX}/bin/python\nimport sys\n\nfrom {module} import main\n\nsys.exit(main())\n")
        path.chmod(0o755)
    (stage / "usr" / "bin").mkdir(parents=True)
    (stage / "usr" / "bin" / "village-edge").symlink_to(PREFIX / "bin" / "village-edge")  # the technician's PATH
    for source, target in PLACES.items():
        (stage / target).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(ROOT / "deploy" / source, stage / target)
    (stage / CONFIG).parent.mkdir(parents=True)
    (stage / CONFIG).write_text(default_config())
    debian = stage / "DEBIAN"
    debian.mkdir()
    installed_kb = sum(p.stat().st_size for p in stage.rglob("*") if p.is_file() and not p.is_symlink()) // 1024
    (debian / "control").write_text(_control(version, arch, installed_kb))
    (debian / "conffiles").write_text(f"/{CONFIG}\n")
    for script in ("postinst", "prerm", "postrm"):
        shutil.copyfile(SCRIPTS_DIR / script, debian / script)
        (debian / script).chmod(0o755)
    out_dir.mkdir(parents=True, exist_ok=True)
    deb = out_dir / f"{PACKAGE}_{version}_{arch}.deb"
    subprocess.run(["dpkg-deb", "--root-owner-group", "-Zgzip", "--build", str(stage), str(deb)], check=True,
                   capture_output=True)
    return deb


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m deploy.deb.build", description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "dist")
    parser.add_argument("--work", type=Path, default=ROOT / "build" / "deb")
    args = parser.parse_args(argv)
    print(build_deb(args.out, args.work))
    return 0


if __name__ == "__main__":
    sys.exit(main())
