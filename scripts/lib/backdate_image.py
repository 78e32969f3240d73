"""Rewrites a `docker save` archive so the image claims another creation date.

The image-age finding needs an old image, and no registry can be reached to pull one: this takes
the freshly built image, changes `created` in its config, renames the config by its new digest and
retags it. Usage: backdate_image.py IN.tar OUT.tar NEW_TAG RFC3339_DATE
"""
import hashlib
import io
import json
import sys
import tarfile


def main() -> None:
    src, dst, tag, created = sys.argv[1:5]
    with tarfile.open(src) as tin:
        members = {m.name: tin.extractfile(m).read() if m.isfile() else None for m in tin.getmembers()}
        infos = {m.name: m for m in tin.getmembers()}
    manifest = json.loads(members["manifest.json"])
    old_config_name = manifest[0]["Config"]
    config = json.loads(members[old_config_name])
    config["created"] = created
    new_config = json.dumps(config, separators=(",", ":")).encode()
    new_config_name = hashlib.sha256(new_config).hexdigest() + ".json"
    manifest[0]["Config"] = new_config_name
    manifest[0]["RepoTags"] = [tag]
    members.pop(old_config_name)
    members[new_config_name] = new_config
    members["manifest.json"] = json.dumps(manifest).encode()
    members.pop("repositories", None)
    with tarfile.open(dst, "w") as tout:
        for name, data in members.items():
            info = infos.get(name) or tarfile.TarInfo(name)
            info = tarfile.TarInfo(name) if name in (new_config_name, "manifest.json") else info
            if data is None:
                tout.addfile(info)
            else:
                info.size = len(data)
                tout.addfile(info, io.BytesIO(data))


if __name__ == "__main__":
    main()
