#!/usr/bin/env bash
# The pinned s3proxy (an S3-compatible server in one jar, filesystem backend) that the
# plugin-storage tests and the storage chaos scenarios start on 127.0.0.1, cached in
# <cache>/s3proxy/s3proxy-VERSION.jar. Maven fetches the jar-with-dependencies from Maven
# Central (org.gaul:s3proxy); a second run with the same version reuses it. Prints Maven's
# progress on stderr and the path of the jar on its last stdout line.
# Exits 3 when java or mvn is missing: only root can install those, so the tests that need
# the server list themselves as skipped (POKE_REQUIRE_ALL=1 makes that a failure).
#   POKE_S3PROXY_VERSION  s3proxy version (default below)
#   POKE_CACHE_DIR        cache folder (default ~/.cache/poke)
set -euo pipefail

version="${POKE_S3PROXY_VERSION:-2.6.0}"
cache="${POKE_CACHE_DIR:-$HOME/.cache/poke}/s3proxy"
jar="$cache/s3proxy-$version.jar"
mkdir -p "$cache"

# One installer at a time (parallel CI jobs or developers share the cache).
exec 9>"$cache/install.lock"
flock 9

if [ -s "$jar" ]; then
  echo "s3proxy $version: cached in $jar" >&2
else
  start=$(date +%s)
  for tool in java mvn; do
    if ! command -v "$tool" >/dev/null; then
      echo "$tool is not installed (apt-get install default-jre-headless maven)" >&2
      exit 3
    fi
  done
  echo "s3proxy $version: fetching org.gaul:s3proxy:$version (jar-with-dependencies) from Maven Central" >&2
  repo="$cache/m2"
  mvn --batch-mode --no-transfer-progress --strict-checksums -Dmaven.repo.local="$repo" \
    dependency:get -Dartifact="org.gaul:s3proxy:$version:jar:jar-with-dependencies" -Dtransitive=false >&2
  fetched="$repo/org/gaul/s3proxy/$version/s3proxy-$version-jar-with-dependencies.jar"
  [ -s "$fetched" ] || { echo "s3proxy $version: Maven reported success but $fetched is missing" >&2; exit 1; }
  # Maven checked the jar against the repository's .sha1; the rename makes the cached jar all or nothing.
  mv "$fetched" "$jar.tmp"
  mv "$jar.tmp" "$jar"
  echo "s3proxy $version: installed in $(( $(date +%s) - start )) s" >&2
fi
echo "$jar"
