# socklab-echo.bash - bash completion for tcp-echo and udp-echo.
#
# One file serves both programs; it is installed once under each name so that
# bash-completion's on-demand loader finds it. It needs nothing but bash itself.

# Options that take a value: the word after one of these is that value.
_socklab_echo_takes_value()
{
    case $1 in
    -p | --port | -b | --bind | --model | --greeting | --reply | --recv-size | \
        --rcvbuf | --sndbuf | --linger | --keepalive-interval | --keepalive-count | --ttl | --tos | \
        --max-clients | --idle-timeout | --min-bytes | --keepalive | --rate-limit | --loop-limit | \
        --allow | --to | \
        -m | --message | -c | --count | -s | --size | \
        -i | --interval | -W | --timeout | -P | --parallel | -t | --time | --csv | --sweep | \
        --rate | --every | --congestion | \
        --cert | --key | --client-ca | --ca | --fingerprint | --client-cert | --client-key)
        return 0
        ;;
    esac
    return 1
}

# Set COMPREPLY to what "compgen ARGS..." prints, one word a line (file names may hold
# spaces, so no word splitting).
_socklab_echo_reply()
{
    local w
    COMPREPLY=()
    while IFS= read -r w; do
        COMPREPLY+=("$w")
    done < <(compgen "$@")
}

_socklab_echo()
{
    local cur prev prog role i word
    local common='-p --port -b --bind -4 -6 -v --trace --trace-time --json -q --quiet --help
                  --nodelay --nagle --rcvbuf --sndbuf --linger --keepalive --keepalive-interval
                  --keepalive-count --ttl --tos --dontfrag --congestion --tls'
    local server='--model --once --greeting --reply --discard --recv-size --max-clients
                  --idle-timeout --min-bytes --rate-limit --loop-limit --reuseaddr --reuseport
                  --allow --cert --key --client-ca'
    local client='-m --message -c --count -s --size -i --interval -W --timeout -P --parallel
                  -t --time --csv --sweep --stream --rate --every --one-way --ca --fingerprint
                  --insecure --client-cert --client-key --connect-each --resume'
    local relay='--once --recv-size --max-clients --idle-timeout --min-bytes --reuseaddr
                 --reuseport --allow --to'
    local peer='--to -c --count -s --size -i --interval -W --timeout --csv'
    local models

    COMPREPLY=()
    cur=${COMP_WORDS[COMP_CWORD]}
    prev=${COMP_WORDS[COMP_CWORD - 1]}
    prog=${COMP_WORDS[0]##*/}
    case $prog in
    udp-echo) models='iterative' ;;
    *) models='iterative fork thread poll epoll uring' ;;
    esac

    # "--model=ep": bash splits at '=' (it is in COMP_WORDBREAKS), so the value is cur and
    # the option sits two words back
    if [[ $cur == = ]]; then
        prev=${COMP_WORDS[COMP_CWORD - 1]}
        cur=
    elif [[ $prev == = ]] && ((COMP_CWORD >= 2)); then
        prev=${COMP_WORDS[COMP_CWORD - 2]}
    fi

    if ((COMP_CWORD == 1)); then
        _socklab_echo_reply -W 'server client relay peer --help --version' -- "$cur"
        return 0
    fi
    role=${COMP_WORDS[1]}

    case $prev in
    --model)
        _socklab_echo_reply -W "$models" -- "$cur"
        return 0
        ;;
    --congestion)
        # what this kernel has; on another, the name still goes to the kernel to check
        _socklab_echo_reply -W "$(cat /proc/sys/net/ipv4/tcp_available_congestion_control 2>/dev/null)" -- "$cur"
        return 0
        ;;
    --csv | --cert | --key | --client-ca | --ca | --client-cert | --client-key)
        compopt -o filenames 2>/dev/null
        _socklab_echo_reply -f -- "$cur"
        return 0
        ;;
    -b | --bind | --to)
        _socklab_echo_reply -A hostname -- "$cur"
        return 0
        ;;
    esac
    if _socklab_echo_takes_value "$prev"; then
        return 0 # a number or free text: nothing sensible to offer
    fi

    case $role in
    server) word="$common $server" ;;
    client) word="$common $client" ;;
    relay) word="${common/--tls/} $relay" ;; # TLS passes through a relay unread
    peer) word="${common/--tls/} $peer" ;;   # peers speak plain TCP or UDP
    *) return 0 ;;
    esac
    if [[ $cur == -* ]]; then
        _socklab_echo_reply -W "$word" -- "$cur"
        return 0
    fi

    # a client takes one HOST; a server takes none
    if [[ $role == client ]]; then
        for ((i = 2; i < COMP_CWORD; i++)); do
            word=${COMP_WORDS[i]}
            if _socklab_echo_takes_value "$word"; then
                # skip the value, and the '=' of "--opt=value" split off by bash
                [[ ${COMP_WORDS[i + 1]} == = ]] && ((i++))
                ((i++))
            elif [[ $word != -* ]]; then
                return 0
            fi
        done
        _socklab_echo_reply -A hostname -- "$cur"
    fi
    return 0
}

complete -F _socklab_echo tcp-echo udp-echo
