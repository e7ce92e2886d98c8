#!/usr/bin/env bash
# deploy/build-image.sh [--force]: builds the Ferrite image (ferrite:local) on a machine where no
# container registry can be reached. Also `./ferrite image [--force]`. See deploy/README.md.
#
# Steps, each skipped when its inputs did not change and its image still exists (--force redoes all):
#   1. jar      server/target/ferrite-server.jar, via `./ferrite build` when missing or older than a source
#   2. docker   an engine that answers: else installs docker.io (apt-get) and starts dockerd
#   3. rootfs   Debian bookworm minbase (debootstrap) imported as ferrite-rootfs:<hash>; also tagged
#               alpine:3.17 if no such image exists (Testcontainers looks for it at start-up)
#   4. base     a jlink'ed Java runtime of the JDK the launcher finds, at /opt/java/openjdk on that
#               root file system: ferrite-base:<hash> (hash of the JDK's release file + modules + rootfs)
#   5. image    deploy/Dockerfile on that base: ferrite:<hash> and ferrite:local (hash of jar +
#               Dockerfile + entrypoint + base)
# Work files and logs: target/image/ (build-image.log), target/dockerd.log.
set -euo pipefail

cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.."
REPO=$PWD
STARTED=$SECONDS

FORCE=0
for arg in "$@"; do
  case $arg in
    --force) FORCE=1 ;;
    -h | --help) sed -n '2,15s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"; exit 0 ;;
    *) echo "build-image: unknown argument '$arg' (usage: build-image.sh [--force])" >&2; exit 2 ;;
  esac
done

JAR=server/target/ferrite-server.jar
WORK=target/image
LOG=$WORK/build-image.log
DOCKERD_LOG=target/dockerd.log
DOCKERD_WAIT_S=${FERRITE_DOCKERD_WAIT_S:-60}
DEBIAN_SUITE=bookworm
DEBIAN_MIRROR=${FERRITE_DEBIAN_MIRROR:-http://deb.debian.org/debian}
ROOTFS_PACKAGES=procps                 # ps, top, pgrep: handy in a container under chaos
ROOTFS_RECIPE_VERSION=1                # bump when the rootfs recipe below changes
# What the server jar needs (jdeps --print-module-deps: java.base, java.compiler, java.desktop,
# java.naming, java.security.jgss, java.security.sasl, java.sql, jdk.httpserver, jdk.jfr,
# jdk.management, jdk.nio.mapmode, jdk.unsupported), plus modules loaded by name at run time
# (TLS/EC, zip file systems, socket options, DNS) and jcmd/jstack for looking into a live JVM.
JAVA_MODULES=java.base,java.compiler,java.desktop,java.logging,java.management,java.naming,\
java.security.jgss,java.security.sasl,java.sql,java.xml,jdk.attach,jdk.crypto.ec,jdk.httpserver,\
jdk.jcmd,jdk.jfr,jdk.management,jdk.naming.dns,jdk.net,jdk.nio.mapmode,jdk.unsupported,jdk.zipfs
JLINK_OPTS=(--strip-debug --no-man-pages --no-header-files --compress=zip-6 --generate-cds-archive)
JAVA_DIR=/opt/java/openjdk             # same place as in the eclipse-temurin images
IMAGE_PATH=$JAVA_DIR/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

STEP=start
say() { echo "build-image: $*" >&2; }
die() {
  say "FAILED in step '$STEP': $*"
  if [[ -s $LOG ]]; then say "last lines of $LOG:"; tail -n 25 "$LOG" >&2; fi
  exit 1
}
# Runs a command with its output appended to the log.
logged() { echo "+ $*" >>"$LOG"; "$@" >>"$LOG" 2>&1; }
sha() { sha256sum | cut -c1-16; }
image_exists() { docker image inspect "$1" >/dev/null 2>&1; }
engine_answers() { command -v docker >/dev/null && timeout 10 docker info >/dev/null 2>&1; }
apt_install() {
  DEBIAN_FRONTEND=noninteractive logged apt-get install -y -q "$@" \
    || { logged apt-get update -q && DEBIAN_FRONTEND=noninteractive logged apt-get install -y -q "$@"; }
}

mkdir -p "$WORK"
: >"$LOG"

# --- JDK: the one the launcher finds (./ferrite image execs this script with JAVA_HOME set) ---
jdk_ok() {
  [[ -n ${JAVA_HOME:-} && -x $JAVA_HOME/bin/jlink && -r $JAVA_HOME/release ]] \
    && grep -Eq '^JAVA_VERSION="(2[5-9]|[3-9][0-9])' "$JAVA_HOME/release"
}
if ! jdk_ok; then
  if [[ -z ${FERRITE_IMAGE_FROM_LAUNCHER:-} ]]; then
    exec ./ferrite image "$@"     # the launcher finds a JDK >= 25 and comes back here
  fi
  STEP=jdk
  die "JAVA_HOME=${JAVA_HOME:-unset} is not a JDK >= 25 with jlink"
fi

# --- 1. jar ---
STEP=jar
jar_stale() {
  [[ -f $JAR ]] || return 0
  # Sources of the modules the server jar is built from (not bench, chaos-tests or tests).
  [[ -n $(find . -maxdepth 1 -name pom.xml -newer "$JAR" -print -quit) ]] && return 0
  [[ -n $(find . -mindepth 2 \( -name target -o -name .git -o -path ./bench -o -path ./chaos-tests \
                                -o -path ./deploy -o -path '*/src/test' \) -prune -o \
               \( -path '*/src/main/*' -o -name pom.xml \) -type f -newer "$JAR" -print -quit) ]]
}
if jar_stale; then
  say "[jar] $JAR is missing or older than a source: ./ferrite build --force"
  ./ferrite build --force || die "./ferrite build failed (see target/ferrite-build.log)"
  [[ -f $JAR ]] || die "./ferrite build did not produce $JAR"
else
  say "[jar] $JAR is up to date"
fi

# --- 2. docker engine ---
STEP=docker
if engine_answers; then
  say "[docker] engine answers (server $(docker version --format '{{.Server.Version}}' 2>/dev/null))"
else
  [[ $(id -u) == 0 ]] || die "no Docker engine answers and this is not root: start dockerd, or run as root"
  if [[ ! -x /usr/sbin/dockerd ]]; then
    say "[docker] no engine: installing docker.io (apt-get; output in $LOG)"
    apt_install docker.io || die "apt-get install docker.io failed"
  fi
  command -v docker >/dev/null || die "docker.io is installed but no 'docker' client is on PATH"
  if ! engine_answers; then
    say "[docker] starting /usr/sbin/dockerd in the background (log: $DOCKERD_LOG)"
    mkdir -p "$(dirname "$DOCKERD_LOG")"
    setsid /usr/sbin/dockerd >>"$DOCKERD_LOG" 2>&1 </dev/null &
    dockerd_pid=$!
    deadline=$((SECONDS + DOCKERD_WAIT_S))
    until [[ -S /var/run/docker.sock ]] && engine_answers; do
      if ! kill -0 "$dockerd_pid" 2>/dev/null; then
        tail -n 15 "$DOCKERD_LOG" >&2
        die "dockerd exited at start (log above, all of it in $DOCKERD_LOG)"
      fi
      (( SECONDS < deadline )) || die "dockerd (pid $dockerd_pid) did not answer on /var/run/docker.sock within ${DOCKERD_WAIT_S} s (see $DOCKERD_LOG)"
      sleep 0.2
    done
    say "[docker] dockerd pid $dockerd_pid answers (server $(docker version --format '{{.Server.Version}}'))"
  fi
fi
export DOCKER_BUILDKIT=0   # the classic builder: FROM local images only, nothing resolved remotely

# --- 3. rootfs ---
STEP=rootfs
rootfs_key=$(printf '%s\n' "$DEBIAN_SUITE" minbase "$ROOTFS_PACKAGES" "$ROOTFS_RECIPE_VERSION" | sha)
ROOTFS_IMAGE=ferrite-rootfs:$rootfs_key
if (( ! FORCE )) && image_exists "$ROOTFS_IMAGE"; then
  say "[rootfs] $ROOTFS_IMAGE exists"
else
  if ! command -v debootstrap >/dev/null; then
    say "[rootfs] installing debootstrap (apt-get)"
    apt_install debootstrap || die "apt-get install debootstrap failed"
  fi
  rootfs=$WORK/rootfs
  rm -rf "$rootfs"
  say "[rootfs] debootstrap --variant=minbase $DEBIAN_SUITE from $DEBIAN_MIRROR (a minute or two; output in $LOG)"
  logged debootstrap --variant=minbase --include="$ROOTFS_PACKAGES" "$DEBIAN_SUITE" "$rootfs" "$DEBIAN_MIRROR" \
    || die "debootstrap failed (mirror $DEBIAN_MIRROR; FERRITE_DEBIAN_MIRROR picks another)"
  # Nothing a container needs: package caches and lists, documentation, translations.
  rm -rf "$rootfs"/var/cache/apt/* "$rootfs"/var/lib/apt/lists/* "$rootfs"/usr/share/doc/* \
         "$rootfs"/usr/share/man/* "$rootfs"/usr/share/info/* "$rootfs"/usr/share/locale/* \
         "$rootfs"/var/log/* "$rootfs"/tmp/*
  for tool in sh df ps; do
    chroot "$rootfs" /bin/sh -c "command -v $tool" >/dev/null || die "the root file system has no '$tool'"
  done
  say "[rootfs] docker import as $ROOTFS_IMAGE"
  tar --numeric-owner -C "$rootfs" -c . \
    | logged docker import -c "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" \
             -c 'CMD ["/bin/sh"]' -m "Debian $DEBIAN_SUITE minbase + $ROOTFS_PACKAGES (deploy/build-image.sh)" \
             - "$ROOTFS_IMAGE" \
    || die "docker import of $rootfs failed"
  rm -rf "$rootfs"
fi
if image_exists alpine:3.17; then
  say "[rootfs] alpine:3.17 exists (left as it is)"
else
  say "[rootfs] tagging $ROOTFS_IMAGE as alpine:3.17 (a small local image for Testcontainers' start-up check)"
  docker tag "$ROOTFS_IMAGE" alpine:3.17 || die "docker tag alpine:3.17 failed"
fi

# --- 4. base: jlink'ed runtime on the rootfs ---
STEP=base
base_dockerfile="FROM $ROOTFS_IMAGE
COPY openjdk $JAVA_DIR
ENV JAVA_HOME=$JAVA_DIR PATH=$IMAGE_PATH LANG=C.UTF-8
CMD [\"java\", \"-version\"]"
base_key=$( { cat "$JAVA_HOME/release"; echo "$JAVA_MODULES"; echo "${JLINK_OPTS[*]}"; echo "$base_dockerfile"; } | sha)
BASE_IMAGE=ferrite-base:$base_key
if (( ! FORCE )) && image_exists "$BASE_IMAGE"; then
  say "[base] $BASE_IMAGE exists"
else
  base=$WORK/base
  rm -rf "$base"
  mkdir -p "$base"
  say "[base] jlink from $JAVA_HOME ($(sed -n 's/^JAVA_RUNTIME_VERSION="\(.*\)"/\1/p' "$JAVA_HOME/release"))"
  logged "$JAVA_HOME/bin/jlink" --add-modules "$JAVA_MODULES" "${JLINK_OPTS[@]}" --output "$base/openjdk" \
    || die "jlink failed (modules: $JAVA_MODULES)"
  echo "$base_dockerfile" >"$base/Dockerfile"
  say "[base] docker build -t $BASE_IMAGE ($(du -sh "$base/openjdk" | cut -f1) runtime)"
  logged docker build --pull=false -t "$BASE_IMAGE" "$base" || die "docker build of $BASE_IMAGE failed"
  logged docker run --rm --network host --user 54321:54321 "$BASE_IMAGE" java -version \
    || die "java does not run in $BASE_IMAGE"
  rm -rf "$base"
fi

# --- 5. the Ferrite image ---
STEP=image
jar_sha=$(sha256sum "$JAR" | cut -d' ' -f1)
image_key=$( { echo "$jar_sha"; cat deploy/Dockerfile deploy/ferrite-role; echo "$BASE_IMAGE"; } | sha)
IMAGE=ferrite:$image_key
if (( ! FORCE )) && image_exists "$IMAGE"; then
  say "[image] $IMAGE exists"
else
  version=$(sed -n 's:^  <version>\(.*\)</version>.*:\1:p' pom.xml | sed -n 1p)
  context=$WORK/context
  rm -rf "$context"
  mkdir -p "$context"
  cp deploy/Dockerfile "$context/Dockerfile"
  install -m 755 deploy/ferrite-role "$context/ferrite-role"
  install -m 644 "$JAR" "$context/ferrite-server.jar"
  say "[image] docker build -t $IMAGE on $BASE_IMAGE (context $(du -sh "$context" | cut -f1))"
  logged docker build --pull=false --build-arg "BASE_IMAGE=$BASE_IMAGE" \
         --build-arg "FERRITE_VERSION=${version:-unknown}" --build-arg "FERRITE_JAR_SHA256=$jar_sha" \
         -t "$IMAGE" "$context" \
    || die "docker build of $IMAGE failed"
  logged docker run --rm --network host --user 54321:54321 "$IMAGE" --version \
    || die "the image does not run: docker run $IMAGE --version"
  rm -rf "$context"
fi
docker tag "$IMAGE" ferrite:local || die "docker tag ferrite:local failed"
size=$(docker image inspect --format '{{.Size}}' "$IMAGE")
say "done in $((SECONDS - STARTED)) s: ferrite:local = $IMAGE ($((size / 1000000)) MB, base $BASE_IMAGE)"
echo "$IMAGE"
