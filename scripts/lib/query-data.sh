# The query macros' data (`.sqlx/`): each `sqlx::query!` checks its SQL against a database while
# the crate compiles and, given SQLX_OFFLINE_DIR, writes what it learnt there. Builds read the
# committed copy (SQLX_OFFLINE in .cargo/config.toml), so they need no database.
# Needs scripts/lib/common.sh.

# create_query_database PORT: a database on the throwaway server at PORT holding the schema the
# migrations create (sqlx's own bookkeeping table aside); prints its URL.
create_query_database() {
  local server="postgres://app@127.0.0.1:$1" psql
  psql="$(pg_bin_dir)/psql"
  "$psql" -q -v ON_ERROR_STOP=1 "$server/postgres" -c "CREATE DATABASE query_check" >/dev/null
  for migration in migrations/*.sql; do
    "$psql" -q -v ON_ERROR_STOP=1 "$server/query_check" -f "$migration" >/dev/null
  done
  echo "$server/query_check"
}

# with_query_checks URL DIR COMMAND...: runs a cargo COMMAND with the macros checking every query
# against URL and writing their data into DIR.
with_query_checks() {
  local url=$1 dir=$2
  shift 2
  mkdir -p "$dir"
  # The macros run only when the crate compiles; an unchanged crate would write nothing.
  touch server/src/lib.rs
  SQLX_OFFLINE=false DATABASE_URL="$url" SQLX_OFFLINE_DIR="$dir" "$@"
}
