#!/usr/bin/env bash
# Proves the dependency direction of ARCHITECTURE.md: the core never names a web, GraphQL,
# ORM or Redis crate, and frontends never name storage crates.
set -euo pipefail
fail=0
forbid() { # crate forbidden-dependency
  if cargo tree -q -p "$1" -e normal --prefix none -f '{p}' --offline | awk '{print $1}' | grep -qx -- "$2"; then
    echo "dependency direction violated: $1 depends on $2"; fail=1
  fi
}
for core in tessera-domain tessera-auth tessera-services; do
  for dep in actix-web sea-orm sqlx redis async-graphql tokio-postgres lettre reqwest; do forbid "$core" "$dep"; done
done
forbid tessera-domain tokio
forbid tessera-auth tokio
for dep in sea-orm sqlx redis tessera-repository; do forbid tessera-rest "$dep"; done
[ "$fail" = 0 ] && echo "dependency direction: ok"
exit "$fail"
