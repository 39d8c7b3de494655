# fish completion for rspamkit-configdump(1)
function __rspamkit_configdump_sections
    rspamkit-configdump -j 2>/dev/null | sed -n 's/^    "\([^"]*\)": .*/\1/p'
end
complete -c rspamkit-configdump -f -a '(__rspamkit_configdump_sections)'
complete -c rspamkit-configdump -s c -l config -r -F -d 'Configuration file (default: $CONFDIR/rspamd.conf)'
complete -c rspamkit-configdump -s j -l json -d 'Pretty JSON output'
complete -c rspamkit-configdump -s C -l compact -d 'Compact JSON output'
complete -c rspamkit-configdump -l var -x -a 'CONFDIR= LOCAL_CONFDIR= RUNDIR= DBDIR= LOGDIR= PLUGINSDIR= SHAREDIR= RULESDIR= WWWDIR= PREFIX= HOSTNAME=' -d 'Set a UCL variable (NAME=VALUE)'
complete -c rspamkit-configdump -s T -l skip-template -d 'Do not run the Jinja stage'
complete -c rspamkit-configdump -s s -l show-comments -d 'Show the comments of the files'
complete -c rspamkit-configdump -s m -l modules-state -d 'Show the state of modules'
complete -c rspamkit-configdump -s g -l groups -d 'Show symbol groups only'
complete -c rspamkit-configdump -s d -l symbol-details -d 'Show symbols with their details only'
complete -c rspamkit-configdump -l no-transform -d 'Print the tree as parsed, without the Lua transformations'
complete -c rspamkit-configdump -l version -d 'Print the version'
complete -c rspamkit-configdump -s '?' -l help -d 'Show the help'
complete -c rspamkit-configdump -l usage -d 'Show a short usage message'
