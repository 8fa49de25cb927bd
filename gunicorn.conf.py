"""Production gunicorn settings, shared by `make run`, the Docker image and `make bench`."""

import os

bind = os.environ.get("BIND", "127.0.0.1:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
# Threaded workers keep client connections alive; the database pool (DATABASE_POOL_SIZE, default 8)
# must hold at least one connection per thread.
worker_class = "gthread"
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
