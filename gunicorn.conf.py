"""Production gunicorn settings, shared by `make run`, the Docker image and `make bench`."""

import errno
import os
import socket

bind = os.environ.get("BIND", "127.0.0.1:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
# Threaded workers keep client connections alive; the database pool (DATABASE_POOL_SIZE, default 8)
# must hold at least one connection per thread.
# gunicorn's gthread worker, with a graceful stop that drops no connection and a thread for liveness probes.
worker_class = "sandbox_api.private_apis.RegistryWorker"
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
keepalive = 5
# Each worker listens on its own SO_REUSEPORT socket, so the kernel spreads connections over the
# workers; on one shared socket, a burst of keep-alive connections can all land on one worker.
reuse_port = True
timeout = 30
graceful_timeout = 20
max_requests = 0  # no worker recycling: restarts cost more than they guard against here
accesslog = "-" if os.environ.get("ACCESS_LOG", "1") == "1" else None
errorlog = "-"
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
# No runtime control socket: its default path is shared by every gunicorn of one user (make run,
# tests, bench) and does not exist for the image's user.
control_socket_disable = True
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None


def on_starting(server) -> None:
    """Refuse to start on an address another server listens on. With SO_REUSEPORT, the workers' sockets
    would join that server's, and the kernel would split the requests between the two registries."""
    for address in server.cfg.address:
        if isinstance(address, str):
            continue  # a Unix socket: gunicorn itself refuses a path in use
        family = socket.AF_INET6 if ":" in address[0] else socket.AF_INET
        with socket.socket(family, socket.SOCK_STREAM) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                probe.bind(address)
            except OSError as error:
                if error.errno != errno.EADDRINUSE:
                    raise
                server.log.error("Another server listens on %s:%s; not starting.", *address[:2])
                raise SystemExit(1) from None


def when_ready(server) -> None:
    # gunicorn's own "Listening at" line names no address when each worker binds its own socket.
    addresses = [a if isinstance(a, str) else f"http://{a[0]}:{a[1]}" for a in server.cfg.address]
    server.log.info("Serving on %s", ", ".join(addresses))
