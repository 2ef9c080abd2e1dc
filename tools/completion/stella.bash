# bash completion for stella (installed as share/bash-completion/completions/stella).
_stella_segments() {
  local f dir=${STELLA_SEGMENT_DIR:-/dev/shm}
  for f in "$dir"/stella.*; do
    [[ -e $f ]] && printf '%s\n' "${f#"$dir"/stella.}"
  done
}

_stella() {
  local cur prev cmd i
  cur=${COMP_WORDS[COMP_CWORD]}
  prev=${COMP_WORDS[COMP_CWORD-1]}
  cmd=""
  for ((i = 1; i < COMP_CWORD; i++)); do
    case ${COMP_WORDS[i]} in
      ls|tail|put|get|set|rm|stat|hz) cmd=${COMP_WORDS[i]}; break ;;
    esac
  done
  if [[ -z $cmd ]]; then
    COMPREPLY=($(compgen -W "ls tail put get set rm stat hz --help --version" -- "$cur"))
    return
  fi
  case $prev in
    --format)
      case $cmd in
        tail) COMPREPLY=($(compgen -W "text hex json msgpack log" -- "$cur")) ;;
        put) COMPREPLY=($(compgen -W "text json hex" -- "$cur")) ;;
        get) COMPREPLY=($(compgen -W "raw text hex json msgpack" -- "$cur")) ;;
        set) COMPREPLY=($(compgen -W "raw text json hex" -- "$cur")) ;;
      esac
      return ;;
    --from) COMPREPLY=($(compgen -W "oldest latest" -- "$cur")); return ;;
    --socket|-c|--config) COMPREPLY=($(compgen -f -- "$cur")); return ;;
    -n|--count|-i|--interval|--timeout) return ;;
  esac
  if [[ $cur == -* ]]; then
    local opts="--help"
    case $cmd in
      ls) opts+=" --json --socket --config" ;;
      tail) opts+=" --from --follow --format --count --quiet --peek" ;;
      put) opts+=" --format --timeout" ;;
      get|set) opts+=" --format" ;;
      rm) opts+=" --force --socket --config" ;;
      stat) opts+=" --json" ;;
      hz) opts+=" --interval --count --json" ;;
    esac
    COMPREPLY=($(compgen -W "$opts" -- "$cur"))
    return
  fi
  COMPREPLY=($(compgen -W "$(_stella_segments)" -- "$cur"))
}
complete -F _stella stella
