#!/bin/bash
# completion.sh FILE - source the bash completion script and check what it offers, the way
# bash calls it: COMP_WORDS/COMP_CWORD set, the registered function run, COMPREPLY read.
set -u

file=$1
status=0

# shellcheck source=/dev/null
source "$file" || { echo "FAIL: cannot source $file" >&2; exit 1; }

# The function bash would call for a program, from its "complete -F" registration.
function_for()
{
    local spec
    spec=$(complete -p "$1" 2>/dev/null) || return 1
    [[ $spec =~ -F[[:space:]]+([^[:space:]]+) ]] || return 1
    echo "${BASH_REMATCH[1]}"
}

# complete LINE: what completing at the end of LINE offers, one word per line, sorted.
complete_line()
{
    local line=$1 fn
    # bash splits words at the characters of COMP_WORDBREAKS, '=' among them:
    # "--model=ep" reaches the function as the three words "--model" "=" "ep"
    read -r -a COMP_WORDS <<<"${line//=/ = }"
    [[ $line == *' ' ]] && COMP_WORDS+=('')
    COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
    COMP_LINE=$line
    COMP_POINT=${#line}
    COMPREPLY=()
    fn=$(function_for "${COMP_WORDS[0]}") || { echo "(no completion registered)"; return; }
    "$fn" "${COMP_WORDS[0]}" "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]}"
    ((${#COMPREPLY[@]} == 0)) || printf '%s\n' "${COMPREPLY[@]}" | sort
}

# expect_exactly LINE WORD...: the completions are exactly these words.
expect_exactly()
{
    local line=$1 got want
    shift
    got=$(complete_line "$line" | tr '\n' ' ')
    want=
    (($# == 0)) || want=$(printf '%s\n' "$@" | sort | tr '\n' ' ')
    if [[ $got == "$want" ]]; then
        echo "ok: '$line' -> ${got:-(nothing)}"
    else
        echo "FAIL: '$line' completes to '$got', expected '$want'" >&2
        status=1
    fi
}

# expect_some LINE WORD...: each of these words is among the completions.
expect_some()
{
    local line=$1 got w
    shift
    got=$(complete_line "$line")
    for w in "$@"; do
        if ! grep -qxF -- "$w" <<<"$got"; then
            echo "FAIL: '$line' does not offer '$w' (offers: $(tr '\n' ' ' <<<"$got"))" >&2
            status=1
            return
        fi
    done
    echo "ok: '$line' offers $*"
}

# expect_none LINE WORD...: none of these words is among the completions.
expect_none()
{
    local line=$1 got w
    shift
    got=$(complete_line "$line")
    for w in "$@"; do
        if grep -qxF -- "$w" <<<"$got"; then
            echo "FAIL: '$line' offers '$w', which does not belong there" >&2
            status=1
            return
        fi
    done
    echo "ok: '$line' leaves out $*"
}

for prog in tcp-echo udp-echo; do
    function_for "$prog" >/dev/null || {
        echo "FAIL: $file registers no completion for $prog" >&2
        status=1
    }
done

expect_exactly 'tcp-echo cl' client
expect_exactly 'udp-echo s' server
expect_exactly 'tcp-echo r' relay
expect_some 'udp-echo relay --' --to --max-clients --idle-timeout --allow --once
expect_none 'tcp-echo relay --' --tls --reply --greeting --discard -m --count
expect_exactly 'udp-echo p' peer
expect_some 'tcp-echo peer --' --to --count --size --interval --timeout --csv
expect_none 'udp-echo peer --' --tls --model --reply --message --parallel --sweep
expect_exactly 'tcp-echo server --mo' --model
expect_exactly 'tcp-echo server --model ' iterative fork thread poll epoll uring
expect_exactly 'tcp-echo server --model e' epoll
expect_exactly 'tcp-echo server --model=' iterative fork thread poll epoll uring
expect_exactly 'tcp-echo server --model=po' poll
expect_exactly 'tcp-echo client --csv=x -m ' # free text: nothing to offer
expect_exactly 'udp-echo server --model ' iterative
expect_some 'udp-echo client -' -m --message -c -s -i -W -P -t --csv --sweep -p -b -4 -6 --json
expect_none 'udp-echo client -' --model --once --reply
expect_some 'tcp-echo server --' --once --greeting --reply --recv-size --max-clients --idle-timeout
expect_some 'udp-echo server --d' --discard
expect_none 'tcp-echo client --d' --discard
expect_none 'tcp-echo server -' -m -c --message
expect_exactly 'tcp-echo client -m ' # free text: nothing to offer
expect_exactly 'tcp-echo server -p ' # a number: nothing to offer
expect_exactly 'tcp-echo server local' # the server takes no HOST
expect_exactly 'udp-echo client -c 3 somehost ' # one HOST already given
exit $status
