# unicorn reads its pidfile (and may read its listen address) only from here or -l: rainbowd passes
# the pidfile's path in $PIDFILE, so unicorn writes its master's pid where rainbowd looks for it.
worker_processes 2
pid ENV.fetch("PIDFILE")
timeout 60
