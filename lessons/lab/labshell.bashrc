# labshell.bashrc - the lab shell's start-up file: yours first, then "(lab)" before the prompt.
# shellcheck shell=bash disable=SC1090,SC1091
[[ -f ~/.bashrc ]] && source ~/.bashrc
PS1="(lab) ${PS1:-\$ }"
