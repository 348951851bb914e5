#!/bin/sh
# A launcher (test fixture), as pyenv's shim is one: it notes each start, a line in the file
# named by its first argument, then becomes the rest of its arguments (exec), so that the
# process the runner started ends up the driver itself.
log=$1
shift
echo "$$" >>"$log"
exec "$@"
