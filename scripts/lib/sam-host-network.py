"""`sam`, but `--docker-network host` puts the function containers on the host's network.

Run as `python scripts/lib/sam-host-network.py <sam arguments>` with the venv's Python (what
`scripts/sam-local-check.sh` does; `scripts/sam-local.sh` wraps it for people).

Why: SAM CLI (1.170, samcli/local/docker/container.py) creates every function container on
Docker's default network, publishes the emulator's port 8080 on a free loopback port, and then
connects the container to the `--docker-network` it was given, except when that is `host`, which
it skips. So `--docker-network host` leaves the container on the default bridge, where
`127.0.0.1` is the container itself, not the machine. On this project's machines the Docker
daemon has no bridge at all (host networking only), so the container gets no network and SAM
times out ("Timed out while attempting to establish a connection to the container").

This wrapper changes only that, when `--docker-network host` is given: the container is created
with network mode `host` and no published ports, and the Runtime Interface Emulator, which would
listen on 0.0.0.0:8080 and serve the runtime API on 127.0.0.1:9001 for every container alike, is
told to listen on the loopback port SAM chose for it and to serve the runtime API on another
free loopback port (its own `--runtime-interface-emulator-address` and `--runtime-api-address`
flags), so several functions can run at once. Everything else is SAM's own code, unchanged.
"""

import socket
import sys

import docker.models.containers
from samcli.cli.main import cli

RIE = "/var/rapid/aws-lambda-rie"


def free_loopback_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def host_network(create):
    def create_on_host_network(self, image=None, command=None, **kwargs):
        entrypoint = list(kwargs.get("entrypoint") or [])
        ports = kwargs.pop("ports", None) or {}
        if entrypoint[:1] == [RIE]:
            # SAM publishes the emulator's 8080 on (interface, port) and calls that port.
            _, rie_port = ports["8080"]
            entrypoint[1:1] = [
                "--runtime-interface-emulator-address",
                f"127.0.0.1:{rie_port}",
                "--runtime-api-address",
                f"127.0.0.1:{free_loopback_port()}",
            ]
            kwargs["entrypoint"] = entrypoint
        kwargs["network_mode"] = "host"
        return create(self, image, command, **kwargs)

    return create_on_host_network


if __name__ == "__main__":
    args = sys.argv[1:]
    if any(a == "--docker-network=host" for a in args) or any(
        a == "--docker-network" and b == "host" for a, b in zip(args, args[1:])
    ):
        docker.models.containers.ContainerCollection.create = host_network(
            docker.models.containers.ContainerCollection.create
        )
    sys.exit(cli(args, prog_name="sam"))
