# page-at.bash - read by the shell that replays a lesson page (pages sets BASH_ENV to it).
#
# cram runs a page as one script with a marker before each command ("echo CRAM<salt> LINE $?").
# This notes that line in $SOCKLAB_PAGE_AT as each command starts, so a page that overruns
# its time can say which command never ended. The programs the page runs do not read it.
unset BASH_ENV
trap '[[ $BASH_COMMAND != "echo CRAM"* ]] || {
    _page_at=${BASH_COMMAND#echo CRAM* }
    echo "${_page_at%% *}" >"$SOCKLAB_PAGE_AT"
}' DEBUG
