# bash completion for hivebox(1): verbs, options, policies and files.
# Installed as /usr/share/bash-completion/completions/hivebox.

# Bare policy names from the places hivebox searches (hivebox-policy(5)),
# plus .ini files and directories here.
_hivebox_policies()
{
	local cur=$1 dir f names=()
	for dir in /etc/hivebox/policies /usr/share/hivebox/policies \
		/usr/local/share/hivebox/policies; do
		for f in "$dir"/*.ini; do
			[[ -f $f ]] && names+=("$(basename "$f" .ini)")
		done
	done
	COMPREPLY=($(compgen -W "${names[*]}" -- "$cur"))
	_filedir ini
}

_hivebox()
{
	local cur prev words cword
	_init_completion || return

	local run_opts="--policy --dry-run --result --result-fd --quiet
		--workdir --audit-dir --config --export-filter --timeout --cpu
		--memory --file-size --max-processes --max-open-files --tmp-size
		--write-quota-mb --write-quota-files --help --version"
	local verbs="shell policy check audit replay"

	case $prev in
	--policy)
		_hivebox_policies "$cur"
		return
		;;
	--result | --config | --export-filter | --record)
		_filedir
		return
		;;
	--workdir | --audit-dir | --dir)
		_filedir -d
		return
		;;
	--key)
		_filedir
		return
		;;
	--fail-at)
		COMPREPLY=($(compgen -W "none low medium high critical" -- "$cur"))
		return
		;;
	--result-fd | --timeout | --cpu | --memory | --file-size | \
		--max-processes | --max-open-files | --tmp-size | \
		--write-quota-mb | --write-quota-files | --exec | --since | \
		--event | --script)
		return
		;;
	esac

	case ${words[1]} in
	policy)
		if ((cword == 2)); then
			COMPREPLY=($(compgen -W "show explain lint groups" \
				-- "$cur"))
		elif [[ ${words[2]} == explain && $cur == -* ]]; then
			COMPREPLY=($(compgen -W "--json" -- "$cur"))
		elif [[ ${words[2]} != groups ]]; then
			_hivebox_policies "$cur"
		fi
		return
		;;
	audit)
		if ((cword == 2)); then
			COMPREPLY=($(compgen -W "init verify show stats rotate" \
				-- "$cur"))
			return
		fi
		local opts="--dir --help"
		case ${words[2]} in
		init) opts+=" --key --unsigned" ;;
		verify) opts+=" --key" ;;
		show | stats) opts+=" --exec --since --event --script --json" ;;
		esac
		COMPREPLY=($(compgen -W "$opts" -- "$cur"))
		return
		;;
	check)
		if [[ $cur == -* ]]; then
			COMPREPLY=($(compgen -W "--policy --json --fail-at
				--audit-dir --help" -- "$cur"))
		else
			_filedir py
		fi
		return
		;;
	replay)
		COMPREPLY=($(compgen -W "--shell --force --audit-dir" \
			-- "$cur"))
		return
		;;
	shell)
		[[ $cur == -* ]] &&
			COMPREPLY=($(compgen -W "$run_opts --record" -- "$cur"))
		return
		;;
	esac

	if [[ $cur == -* ]]; then
		COMPREPLY=($(compgen -W "$run_opts" -- "$cur"))
	elif ((cword == 1)); then
		COMPREPLY=($(compgen -W "$verbs" -- "$cur"))
		_filedir py
	else
		_filedir
	fi
} &&
	complete -F _hivebox hivebox
