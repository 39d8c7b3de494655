# fish completion for rspamkit-pw(1)
complete -c rspamkit-pw -f
complete -c rspamkit-pw -n '__fish_is_first_arg' -a keypair -d 'Make an HTTPCrypt keypair'
complete -c rspamkit-pw -s e -l encrypt -d 'Make a hash of a password (the default)'
complete -c rspamkit-pw -s c -l check -d 'Check a password against a hash'
complete -c rspamkit-pw -s t -l type -x -a 'catena pbkdf2' -d 'Hash type to make'
complete -c rspamkit-pw -s l -l list -d 'List the hash types'
complete -c rspamkit-pw -s p -l password -x -d 'The password, or with --check the hash (visible to ps)'
complete -c rspamkit-pw -l password-file -r -F -d 'Read the password from a file'
complete -c rspamkit-pw -l password-env -x -a '(set -xn)' -d 'Read the password from an environment variable'
complete -c rspamkit-pw -s q -l quiet -d 'Print nothing: only the exit status'
complete -c rspamkit-pw -l version -d 'Print the version'
complete -c rspamkit-pw -s '?' -l help -d 'Show the help'
complete -c rspamkit-pw -l usage -d 'Show a short usage message'
