# SPDX-License-Identifier: GPL-2.0-or-later
"""CVE-2021-30465 class: mount destinations that are symbolic links inside
the rootfs, and a rootfs swapped while the container is being built, must
never put a mount or the container's root outside the rootfs."""

import os
import shutil

import pytest

ANN = "org.ward.entitlements"


@pytest.fixture
def trapped(oci):
    """A rootfs in the bundle whose directories are symbolic links out."""
    r = oci.rootfs_in_bundle()
    os.symlink("/", os.path.join(r, "abs"))                       # to the root
    os.symlink("../../../../../../../../..", os.path.join(r, "up"))  # above it
    os.symlink("/etc", os.path.join(r, "etcl"))                  # to /etc
    oci.config["root"]["readonly"] = False
    return oci, r


@pytest.mark.parametrize("annotated", [False, True])
def test_symlinked_destinations_stay_in_the_rootfs(trapped, annotated):
    oci, r = trapped
    tag = f"h3oci-esc-{os.getpid()}-{int(annotated)}"
    src = os.path.join(oci.tmp, "src")
    os.makedirs(src, exist_ok=True)
    oci.config["mounts"] += [
        {"destination": f"/abs/{tag}-a", "type": "tmpfs", "source": "tmpfs"},
        {"destination": f"/up/{tag}-b", "type": "tmpfs", "source": "tmpfs"},
        {"destination": f"/etcl/{tag}-c", "type": "bind", "source": src,
         "options": ["rbind"]},
    ]
    if annotated:
        oci.config["annotations"] = {ANN: f"network.none,fs.write={src}"}
    res = oci.sh(f"grep {tag} /proc/self/mountinfo | cut -d' ' -f5")
    assert res.returncode == 0, res
    # Each mount is where the link points *inside* the rootfs ...
    assert sorted(res.stdout.split()) == [f"/etc/{tag}-c", f"/{tag}-a", f"/{tag}-b"], res
    # ... and nothing was made on the host.
    for p in (f"/{tag}-a", f"/{tag}-b", f"/etc/{tag}-c"):
        assert not os.path.lexists(p), f"a mount point was made on the host: {p}"
    assert os.path.isdir(os.path.join(r, f"{tag}-a"))


def test_rootfs_swapped_during_setup_is_not_followed(trapped):
    """A prestart hook runs after the mounts and before pivot_root: it
    stands for whoever can rename the bundle's directory meanwhile."""
    oci, r = trapped
    with open(os.path.join(r, "which"), "w") as f:
        f.write("real\n")
    decoy = os.path.join(oci.tmp, "decoy")
    shutil.copytree(r, decoy, symlinks=True)
    with open(os.path.join(decoy, "which"), "w") as f:
        f.write("decoy\n")
    oci.config["root"]["path"] = r   # absolute, as the engine writes it
    moved = r + ".moved"
    oci.config["hooks"] = {"prestart": [{"path": "/bin/sh", "args": [
        "sh", "-c", f"mv {r} {moved} && ln -s {decoy} {r}"]}]}
    res = oci.sh("cat /which")
    assert res.returncode == 0, res
    assert res.stdout.strip() == "real", "the container's root followed the swapped path"
