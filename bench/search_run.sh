# Sourced by the bench scripts that run many searches.
# search_run DIR [haq search flags...]: runs `haq search ... --out DIR` (output in
# DIR.out and DIR.err), resumes it if DIR holds an unfinished run, and does
# nothing if it has finished.
search_run() {
  local dir=$1; shift
  if [ -f "$dir/summary.json" ]; then return 0; fi
  if [ -f "$dir/settings.json" ]; then
    "$HAQ" search --resume "$dir" > "$dir.out" 2> "$dir.err"
  else
    "$HAQ" search "$@" --out "$dir" > "$dir.out" 2> "$dir.err"
  fi
}
