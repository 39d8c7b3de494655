# fish completion for rspamkit
complete -c rspamkit -l help -d 'Print a short usage text'
complete -c rspamkit -l version -d 'Print the version'
complete -c rspamkit -l commands -d 'List the rspamc command words'
complete -c rspamkit -n '__fish_is_first_arg' -a 'scan learn fuzzy ctl pw configdump' -d 'rspamkit program'
complete -c rspamkit -n '__fish_is_first_arg' -a 'symbols check report learn_spam learn_ham learn_class: fuzzy_add fuzzy_del fuzzy_delhash stat stat_reset counters uptime add_symbol add_action' -d 'rspamc command'
