#!/bin/sh
# The proxy-overhead backend: nginx answering a fixed "hello", on the port rainbowd gives ($1), with
# its master's pid in rainbowd's pidfile ($2), so rainbowd starts, probes and stops it.
set -e
dir=$(mktemp -d "${TMPDIR:-/tmp}/bench-nginx-$1-XXXX")
cat > "$dir/nginx.conf" <<CONF
worker_processes 1;
error_log stderr warn;
events { worker_connections 4096; }
http {
  access_log off;
  keepalive_requests 1000000;
  server {
    listen 127.0.0.1:$1 backlog=4096;
    location / { return 200 "hello\n"; }
  }
}
CONF
exec nginx -p "$dir" -c "$dir/nginx.conf" -g "daemon off; pid $2;"
