# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_kubectl_nlb_global_optspecs
    string join \n kubeconfig= context= cluster= user= n/namespace= as= as-group= request-timeout= s/server= insecure-skip-tls-verify certificate-authority= token= region= profile= color= v/verbose h/help V/version
end

function __fish_kubectl_nlb_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_kubectl_nlb_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_kubectl_nlb_using_subcommand
    set -l cmd (__fish_kubectl_nlb_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c kubectl-nlb -n "__fish_kubectl_nlb_needs_command" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)' -r -F
complete -c kubectl-nlb -n "__fish_kubectl_nlb_needs_command" -l context -d 'The kubeconfig context to use' -r
complete -c kubectl-nlb -n "__fish_kubectl_nlb_needs_command" -l cluster -d 'The kubeconfig cluster to use' -r
complete -c kubectl-nlb -n "__fish_kubectl_nlb_needs_command" -l user -d 'The kubeconfig user to use' -r
complete -c kubectl-nlb -n "__fish_kubectl_nlb_needs_command" -s n -l namespace -d 'The namespace (default: the context\'s, then "default")' -r
complete -c kubectl-nlb -n "__fish_kubectl_nlb_needs_command" -l as -d 'Username to impersonate' -r
complete -c kubectl-nlb -n "__fish_kubectl_nlb_needs_command" -l as-group -d 'Group to impersonate (repeatable)' -r
complete -c kubectl-nlb -n "__fish_kubectl_nlb_needs_command" -l request-timeout -d 'How long to wait for one API request; 0 waits forever (e.g. 30s, 1m)' -r
complete -c kubectl-nlb -n "__fish_kubectl_nlb_needs_command" -s s -l server -d 'The address of the Kubernetes API server' -r
complete -c kubectl-nlb -n "__fish_kubectl_nlb_needs_command" -l certificate-authority -d 'A PEM file of CA certificates to verify the API server with' -r -F
complete -c kubectl-nlb -n "__fish_kubectl_nlb_needs_command" -l token -d 'Bearer token for the API server, instead of the kubeconfig user\'s credentials' -r
complete -c kubectl-nlb -n "__fish_kubectl_nlb_needs_command" -l region -d 'AWS region (default: AWS_REGION, then the profile\'s region)' -r
complete -c kubectl-nlb -n "__fish_kubectl_nlb_needs_command" -l profile -d 'AWS profile from ~/.aws/config (default: AWS_PROFILE, then "default")' -r
complete -c kubectl-nlb -n "__fish_kubectl_nlb_needs_command" -l color -d 'When to colour output; NO_COLOR turns "auto" off' -r -f -a "auto\t''
always\t''
never\t''"
complete -c kubectl-nlb -n "__fish_kubectl_nlb_needs_command" -l insecure-skip-tls-verify -d 'Do not verify the API server\'s certificate (insecure)'
complete -c kubectl-nlb -n "__fish_kubectl_nlb_needs_command" -s v -l verbose -d 'Log more to stderr (-v, -vv, -vvv)'
complete -c kubectl-nlb -n "__fish_kubectl_nlb_needs_command" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c kubectl-nlb -n "__fish_kubectl_nlb_needs_command" -s V -l version -d 'Print version'
complete -c kubectl-nlb -n "__fish_kubectl_nlb_needs_command" -f -a "audit" -d 'Report every LoadBalancer Service: owner, NLB, target groups, DNS, and findings (read-only)'
complete -c kubectl-nlb -n "__fish_kubectl_nlb_needs_command" -f -a "bind-hostnetwork" -d 'Bind a hostNetwork workload to an NLB target group with a TargetGroupBinding'
complete -c kubectl-nlb -n "__fish_kubectl_nlb_needs_command" -f -a "cutover" -d 'Change preserve_client_ip with zero downtime: a parallel Service, then health-gated Route 53 weights'
complete -c kubectl-nlb -n "__fish_kubectl_nlb_needs_command" -f -a "migrate" -d 'Move legacy in-tree NLB Services to the AWS Load Balancer Controller in IP mode, without downtime'
complete -c kubectl-nlb -n "__fish_kubectl_nlb_needs_command" -f -a "completion" -d 'Print a shell completion script for kubectl-nlb'
complete -c kubectl-nlb -n "__fish_kubectl_nlb_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c kubectl-nlb -n "__fish_kubectl_nlb_using_subcommand audit" -s o -l output -d 'Output format' -r -f -a "table\t''
wide\t'Every column: scheme, NLB state, what the pods see as client address'
yaml\t''
json\t''"
complete -c kubectl-nlb -n "__fish_kubectl_nlb_using_subcommand audit" -l zone -d 'Hosted zone (id or name) to search for records; repeatable (default: every zone you can list)' -r
complete -c kubectl-nlb -n "__fish_kubectl_nlb_using_subcommand audit" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)' -r -F
complete -c kubectl-nlb -n "__fish_kubectl_nlb_using_subcommand audit" -l context -d 'The kubeconfig context to use' -r
complete -c kubectl-nlb -n "__fish_kubectl_nlb_using_subcommand audit" -l cluster -d 'The kubeconfig cluster to use' -r
complete -c kubectl-nlb -n "__fish_kubectl_nlb_using_subcommand audit" -l user -d 'The kubeconfig user to use' -r
complete -c kubectl-nlb -n "__fish_kubectl_nlb_using_subcommand audit" -s n -l namespace -d 'The namespace (default: the context\'s, then "default")' -r
complete -c kubectl-nlb -n "__fish_kubectl_nlb_using_subcommand audit" -l as -d 'Username to impersonate' -r
complete -c kubectl-nlb -n "__fish_kubectl_nlb_using_subcommand audit" -l as-group -d 'Group to impersonate (repeatable)' -r
complete -c kubectl-nlb -n "__fish_kubectl_nlb_using_subcommand audit" -l request-timeout -d 'How long to wait for one API request; 0 waits forever (e.g. 30s, 1m)' -r
complete -c kubectl-nlb -n "__fish_kubectl_nlb_using_subcommand audit" -s s -l server -d 'The address of the Kubernetes API server' -r
complete -c kubectl-nlb -n "__fish_kubectl_nlb_using_subcommand audit" -l certificate-authority -d 'A PEM file of CA certificates to verify the API server with' -r -F
complete -c kubectl-nlb -n "__fish_kubectl_nlb_using_subcommand audit" -l token -d 'Bearer token for the API server, instead of the kubeconfig user\'s credentials' -r
complete -c kubectl-nlb -n "__fish_kubectl_nlb_using_subcommand audit" -l region -d 'AWS region (default: AWS_REGION, then the profile\'s region)' -r
complete -c kubectl-nlb -n "__fish_kubectl_nlb_using_subcommand audit" -l profile -d 'AWS profile from ~/.aws/config (default: AWS_PROFILE, then "default")' -r
complete -c kubectl-nlb -n "__fish_kubectl_nlb_using_subcommand audit" -l color -d 'When to colour output; NO_COLOR turns "auto" off' -r -f -a "auto\t''
always\t''
never\t''"
complete -c kubectl-nlb -n "__fish_kubectl_nlb_using_subcommand audit" -s A -l all-namespaces -d 'Audit Services in all namespaces'
complete -c kubectl-nlb -n "__fish_kubectl_nlb_using_subcommand audit" -l shallow -d 'Skip target-group attributes and target health: two AWS calls per target group (ELBv2 has no batch form), which dominate on large accounts'
complete -c kubectl-nlb -n "__fish_kubectl_nlb_using_subcommand audit" -l insecure-skip-tls-verify -d 'Do not verify the API server\'s certificate (insecure)'
complete -c kubectl-nlb -n "__fish_kubectl_nlb_using_subcommand audit" -s v -l verbose -d 'Log more to stderr (-v, -vv, -vvv)'
complete -c kubectl-nlb -n "__fish_kubectl_nlb_using_subcommand audit" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c kubectl-nlb -n "__fish_kubectl_nlb_using_subcommand audit" -s V -l version -d 'Print version'
complete -c kubectl-nlb -n "__fish_kubectl_nlb_using_subcommand bind-hostnetwork" -l port -d 'Container port (name or number) to bind; repeatable (default: every port)' -r
complete -c kubectl-nlb -n "__fish_kubectl_nlb_using_subcommand bind-hostnetwork" -l target-group-arn -d 'Bind this existing target group' -r
complete -c kubectl-nlb -n "__fish_kubectl_nlb_using_subcommand bind-hostnetwork" -l target-group-name -d 'Bind the existing target group of this name' -r
complete -c kubectl-nlb -n "__fish_kubectl_nlb_using_subcommand bind-hostnetwork" -l load-balancer -d 'With --create-target-group: add a listener on this load balancer (ARN or name)' -r
complete -c kubectl-nlb -n "__fish_kubectl_nlb_using_subcommand bind-hostnetwork" -l scheme -d 'The new NLB\'s scheme' -r -f -a "internal\t''
internet-facing\t''"
complete -c kubectl-nlb -n "__fish_kubectl_nlb_using_subcommand bind-hostnetwork" -l subnets -d 'The new NLB\'s subnets, one per zone (default: the VPC\'s subnets tagged kubernetes.io/role/elb or internal-elb)' -r
complete -c kubectl-nlb -n "__fish_kubectl_nlb_using_subcommand bind-hostnetwork" -l target-type -d 'instance: nodes on the Service\'s NodePort; ip: node IPs on the pod port' -r -f -a "instance\t''
ip\t''"
complete -c kubectl-nlb -n "__fish_kubectl_nlb_using_subcommand bind-hostnetwork" -l source-cidr -d 'Allow traffic from this CIDR (repeatable; default: the load balancer\'s security groups or subnets)' -r
complete -c kubectl-nlb -n "__fish_kubectl_nlb_using_subcommand bind-hostnetwork" -l source-sg -d 'Allow traffic from this security group (repeatable)' -r
complete -c kubectl-nlb -n "__fish_kubectl_nlb_using_subcommand bind-hostnetwork" -l preserve-client-ip -d 'preserve_client_ip.enabled of the target groups it creates (default: AWS\'s, on for instance targets and UDP)' -r -f -a "true\t''
false\t''"
complete -c kubectl-nlb -n "__fish_kubectl_nlb_using_subcommand bind-hostnetwork" -l cluster-name -d 'The cluster name the controller runs with (default: read from its --cluster-name)' -r
complete -c kubectl-nlb -n "__fish_kubectl_nlb_using_subcommand bind-hostnetwork" -s o -l output -d 'Print the manifests instead of applying them' -r -f -a "yaml\t''
json\t''"
complete -c kubectl-nlb -n "__fish_kubectl_nlb_using_subcommand bind-hostnetwork" -l dry-run -d 'client: print the plan and manifests; server: submit them with dryRun=All' -r -f -a "none\t''
client\t''
server\t''"
complete -c kubectl-nlb -n "__fish_kubectl_nlb_using_subcommand bind-hostnetwork" -l timeout -d 'How long to wait for the targets to become healthy' -r
complete -c kubectl-nlb -n "__fish_kubectl_nlb_using_subcommand bind-hostnetwork" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)' -r -F
complete -c kubectl-nlb -n "__fish_kubectl_nlb_using_subcommand bind-hostnetwork" -l context -d 'The kubeconfig context to use' -r
complete -c kubectl-nlb -n "__fish_kubectl_nlb_using_subcommand bind-hostnetwork" -l cluster -d 'The kubeconfig cluster to use' -r
complete -c kubectl-nlb -n "__fish_kubectl_nlb_using_subcommand bind-hostnetwork" -l user -d 'The kubeconfig user to use' -r
complete -c kubectl-nlb -n "__fish_kubectl_nlb_using_subcommand bind-hostnetwork" -s n -l namespace -d 'The namespace (default: the context\'s, then "default")' -r
complete -c kubectl-nlb -n "__fish_kubectl_nlb_using_subcommand bind-hostnetwork" -l as -d 'Username to impersonate' -r
complete -c kubectl-nlb -n "__fish_kubectl_nlb_using_subcommand bind-hostnetwork" -l as-group -d 'Group to impersonate (repeatable)' -r
complete -c kubectl-nlb -n "__fish_kubectl_nlb_using_subcommand bind-hostnetwork" -l request-timeout -d 'How long to wait for one API request; 0 waits forever (e.g. 30s, 1m)' -r
complete -c kubectl-nlb -n "__fish_kubectl_nlb_using_subcommand bind-hostnetwork" -s s -l server -d 'The address of the Kubernetes API server' -r
complete -c kubectl-nlb -n "__fish_kubectl_nlb_using_subcommand bind-hostnetwork" -l certificate-authority -d 'A PEM file of CA certificates to verify the API server with' -r -F
complete -c kubectl-nlb -n "__fish_kubectl_nlb_using_subcommand bind-hostnetwork" -l token -d 'Bearer token for the API server, instead of the kubeconfig user\'s credentials' -r
complete -c kubectl-nlb -n "__fish_kubectl_nlb_using_subcommand bind-hostnetwork" -l region -d 'AWS region (default: AWS_REGION, then the profile\'s region)' -r
complete -c kubectl-nlb -n "__fish_kubectl_nlb_using_subcommand bind-hostnetwork" -l profile -d 'AWS profile from ~/.aws/config (default: AWS_PROFILE, then "default")' -r
complete -c kubectl-nlb -n "__fish_kubectl_nlb_using_subcommand bind-hostnetwork" -l color -d 'When to colour output; NO_COLOR turns "auto" off' -r -f -a "auto\t''
always\t''
never\t''"
complete -c kubectl-nlb -n "__fish_kubectl_nlb_using_subcommand bind-hostnetwork" -l create-target-group -d 'Create a target group per port, tagged so the controller may manage it'
complete -c kubectl-nlb -n "__fish_kubectl_nlb_using_subcommand bind-hostnetwork" -l create-load-balancer -d 'With --create-target-group: create an NLB for it (hn-<namespace>-<workload>) with a listener per port'
complete -c kubectl-nlb -n "__fish_kubectl_nlb_using_subcommand bind-hostnetwork" -s y -l yes -d 'Do not ask for confirmation'
complete -c kubectl-nlb -n "__fish_kubectl_nlb_using_subcommand bind-hostnetwork" -l insecure-skip-tls-verify -d 'Do not verify the API server\'s certificate (insecure)'
complete -c kubectl-nlb -n "__fish_kubectl_nlb_using_subcommand bind-hostnetwork" -s v -l verbose -d 'Log more to stderr (-v, -vv, -vvv)'
complete -c kubectl-nlb -n "__fish_kubectl_nlb_using_subcommand bind-hostnetwork" -s h -l help -d 'Print help'
complete -c kubectl-nlb -n "__fish_kubectl_nlb_using_subcommand bind-hostnetwork" -s V -l version -d 'Print version'
complete -c kubectl-nlb -n "__fish_kubectl_nlb_using_subcommand cutover; and not __fish_seen_subcommand_from status resume abort help" -l preserve-client-ip -d 'The preserve_client_ip.enabled value for the new NLB\'s target groups' -r -f -a "true\t''
false\t''"
complete -c kubectl-nlb -n "__fish_kubectl_nlb_using_subcommand cutover; and not __fish_seen_subcommand_from status resume abort help" -l new-name -d 'Name of the parallel Service (default: SERVICE-cip-on or SERVICE-cip-off)' -r
complete -c kubectl-nlb -n "__fish_kubectl_nlb_using_subcommand cutover; and not __fish_seen_subcommand_from status resume abort help" -l via -d 'How traffic moves: DNS weights to a parallel NLB, or listener weights to twin target groups on the same NLB (same DNS name, addresses and PrivateLink endpoint service; LBC v2.16.0 or later)' -r -f -a "dns\t''
listener\t''"
complete -c kubectl-nlb -n "__fish_kubectl_nlb_using_subcommand cutover; and not __fish_seen_subcommand_from status resume abort help" -l dry-run -d 'Print the plan (client) or validate the new Service on the server (server); change nothing' -r -f -a "none\t''
client\t''
server\t''"
complete -c kubectl-nlb -n "__fish_kubectl_nlb_using_subcommand cutover; and not __fish_seen_subcommand_from status resume abort help" -s o -l output -d 'Print the parallel Service\'s manifest (--via listener: the bindings and annotations) instead of applying anything' -r -f -a "yaml\t''
json\t''"
complete -c kubectl-nlb -n "__fish_kubectl_nlb_using_subcommand cutover; and not __fish_seen_subcommand_from status resume abort help" -l weights -d 'Percent of DNS answers for the new NLB after each step, ending at 100' -r
complete -c kubectl-nlb -n "__fish_kubectl_nlb_using_subcommand cutover; and not __fish_seen_subcommand_from status resume abort help" -l record -d 'Only move this record (default: every record in your zones that points at the NLB)' -r
complete -c kubectl-nlb -n "__fish_kubectl_nlb_using_subcommand cutover; and not __fish_seen_subcommand_from status resume abort help" -l zone -d 'The hosted zone, by id or name (default: search every zone you can list)' -r
complete -c kubectl-nlb -n "__fish_kubectl_nlb_using_subcommand cutover; and not __fish_seen_subcommand_from status resume abort help" -l soak -d 'How long to watch target health after each step (default: the records\' TTL, 60s for aliases)' -r
complete -c kubectl-nlb -n "__fish_kubectl_nlb_using_subcommand cutover; and not __fish_seen_subcommand_from status resume abort help" -l interval -d 'How often to read target health while soaking' -r
complete -c kubectl-nlb -n "__fish_kubectl_nlb_using_subcommand cutover; and not __fish_seen_subcommand_from status resume abort help" -l timeout -d 'The most to wait for any one step (NLB provisioning, targets, DNS sync)' -r
complete -c kubectl-nlb -n "__fish_kubectl_nlb_using_subcommand cutover; and not __fish_seen_subcommand_from status resume abort help" -l min-healthy-percent -d 'Share of each new target group\'s counted targets that must be healthy (draining ones are not counted)' -r
complete -c kubectl-nlb -n "__fish_kubectl_nlb_using_subcommand cutover; and not __fish_seen_subcommand_from status resume abort help" -l initial-grace -d 'How long a newly registered (initial) target is not counted (default: its health check interval × (healthy threshold + 2))' -r
complete -c kubectl-nlb -n "__fish_kubectl_nlb_using_subcommand cutover; and not __fish_seen_subcommand_from status resume abort help" -l drain -d 'How long to let clients leave the old NLB before deleting it (default: TTL + deregistration delay)' -r
complete -c kubectl-nlb -n "__fish_kubectl_nlb_using_subcommand cutover; and not __fish_seen_subcommand_from status resume abort help" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)' -r -F
complete -c kubectl-nlb -n "__fish_kubectl_nlb_using_subcommand cutover; and not __fish_seen_subcommand_from status resume abort help" -l context -d 'The kubeconfig context to use' -r
complete -c kubectl-nlb -n "__fish_kubectl_nlb_using_subcommand cutover; and not __fish_seen_subcommand_from status resume abort help" -l cluster -d 'The kubeconfig cluster to use' -r
complete -c kubectl-nlb -n "__fish_kubectl_nlb_using_subcommand cutover; and not __fish_seen_subcommand_from status resume abort help" -l user -d 'The kubeconfig user to use' -r
complete -c kubectl-nlb -n "__fish_kubectl_nlb_using_subcommand cutover; and not __fish_seen_subcommand_from status resume abort help" -s n -l namespace -d 'The namespace (default: the context\'s, then "default")' -r
complete -c kubectl-nlb -n "__fish_kubectl_nlb_using_subcommand cutover; and not __fish_seen_subcommand_from status resume abort help" -l as -d 'Username to impersonate' -r
complete -c kubectl-nlb -n "__fish_kubectl_nlb_using_subcommand cutover; and not __fish_seen_subcommand_from status resume abort help" -l as-group -d 'Group to impersonate (repeatable)' -r
complete -c kubectl-nlb -n "__fish_kubectl_nlb_using_subcommand cutover; and not __fish_seen_subcommand_from status resume abort help" -l request-timeout -d 'How long to wait for one API request; 0 waits forever (e.g. 30s, 1m)' -r
complete -c kubectl-nlb -n "__fish_kubectl_nlb_using_subcommand cutover; and not __fish_seen_subcommand_from status resume abort help" -s s -l server -d 'The address of the Kubernetes API server' -r
complete -c kubectl-nlb -n "__fish_kubectl_nlb_using_subcommand cutover; and not __fish_seen_subcommand_from status resume abort help" -l certificate-authority -d 'A PEM file of CA certificates to verify the API server with' -r -F
complete -c kubectl-nlb -n "__fish_kubectl_nlb_using_subcommand cutover; and not __fish_seen_subcommand_from status resume abort help" -l token -d 'Bearer token for the API server, instead of the kubeconfig user\'s credentials' -r
complete -c kubectl-nlb -n "__fish_kubectl_nlb_using_subcommand cutover; and not __fish_seen_subcommand_from status resume abort help" -l region -d 'AWS region (default: AWS_REGION, then the profile\'s region)' -r
complete -c kubectl-nlb -n "__fish_kubectl_nlb_using_subcommand cutover; and not __fish_seen_subcommand_from status resume abort help" -l profile -d 'AWS profile from ~/.aws/config (default: AWS_PROFILE, then "default")' -r
complete -c kubectl-nlb -n "__fish_kubectl_nlb_using_subcommand cutover; and not __fish_seen_subcommand_from status resume abort help" -l color -d 'When to colour output; NO_COLOR turns "auto" off' -r -f -a "auto\t''
always\t''
never\t''"
complete -c kubectl-nlb -n "__fish_kubectl_nlb_using_subcommand cutover; and not __fish_seen_subcommand_from status resume abort help" -l accept-new-addresses -d 'Accept new addresses for a Service with Elastic IPs or fixed private IPv4 or IPv6 addresses'
complete -c kubectl-nlb -n "__fish_kubectl_nlb_using_subcommand cutover; and not __fish_seen_subcommand_from status resume abort help" -s y -l yes -d 'Do not ask for confirmation'
complete -c kubectl-nlb -n "__fish_kubectl_nlb_using_subcommand cutover; and not __fish_seen_subcommand_from status resume abort help" -l finalize -d 'After the switch, collapse the records, wait for the drain, delete the old Service'
complete -c kubectl-nlb -n "__fish_kubectl_nlb_using_subcommand cutover; and not __fish_seen_subcommand_from status resume abort help" -l insecure-skip-tls-verify -d 'Do not verify the API server\'s certificate (insecure)'
complete -c kubectl-nlb -n "__fish_kubectl_nlb_using_subcommand cutover; and not __fish_seen_subcommand_from status resume abort help" -s v -l verbose -d 'Log more to stderr (-v, -vv, -vvv)'
complete -c kubectl-nlb -n "__fish_kubectl_nlb_using_subcommand cutover; and not __fish_seen_subcommand_from status resume abort help" -s h -l help -d 'Print help'
complete -c kubectl-nlb -n "__fish_kubectl_nlb_using_subcommand cutover; and not __fish_seen_subcommand_from status resume abort help" -s V -l version -d 'Print version'
complete -c kubectl-nlb -n "__fish_kubectl_nlb_using_subcommand cutover; and not __fish_seen_subcommand_from status resume abort help" -a "status" -d 'Show where a switch stands: step, weights, last health reading, age'
complete -c kubectl-nlb -n "__fish_kubectl_nlb_using_subcommand cutover; and not __fish_seen_subcommand_from status resume abort help" -a "resume" -d 'Continue from the journal (after a crash, Ctrl-C, a timeout or a rollback)'
complete -c kubectl-nlb -n "__fish_kubectl_nlb_using_subcommand cutover; and not __fish_seen_subcommand_from status resume abort help" -a "abort" -d 'Restore the original DNS records exactly and delete the parallel Service'
complete -c kubectl-nlb -n "__fish_kubectl_nlb_using_subcommand cutover; and not __fish_seen_subcommand_from status resume abort help" -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c kubectl-nlb -n "__fish_kubectl_nlb_using_subcommand cutover; and __fish_seen_subcommand_from status" -s o -l output -d 'Output format' -r -f -a "table\t''
yaml\t''
json\t''"
complete -c kubectl-nlb -n "__fish_kubectl_nlb_using_subcommand cutover; and __fish_seen_subcommand_from status" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)' -r -F
complete -c kubectl-nlb -n "__fish_kubectl_nlb_using_subcommand cutover; and __fish_seen_subcommand_from status" -l context -d 'The kubeconfig context to use' -r
complete -c kubectl-nlb -n "__fish_kubectl_nlb_using_subcommand cutover; and __fish_seen_subcommand_from status" -l cluster -d 'The kubeconfig cluster to use' -r
complete -c kubectl-nlb -n "__fish_kubectl_nlb_using_subcommand cutover; and __fish_seen_subcommand_from status" -l user -d 'The kubeconfig user to use' -r
complete -c kubectl-nlb -n "__fish_kubectl_nlb_using_subcommand cutover; and __fish_seen_subcommand_from status" -s n -l namespace -d 'The namespace (default: the context\'s, then "default")' -r
complete -c kubectl-nlb -n "__fish_kubectl_nlb_using_subcommand cutover; and __fish_seen_subcommand_from status" -l as -d 'Username to impersonate' -r
complete -c kubectl-nlb -n "__fish_kubectl_nlb_using_subcommand cutover; and __fish_seen_subcommand_from status" -l as-group -d 'Group to impersonate (repeatable)' -r
complete -c kubectl-nlb -n "__fish_kubectl_nlb_using_subcommand cutover; and __fish_seen_subcommand_from status" -l request-timeout -d 'How long to wait for one API request; 0 waits forever (e.g. 30s, 1m)' -r
complete -c kubectl-nlb -n "__fish_kubectl_nlb_using_subcommand cutover; and __fish_seen_subcommand_from status" -s s -l server -d 'The address of the Kubernetes API server' -r
complete -c kubectl-nlb -n "__fish_kubectl_nlb_using_subcommand cutover; and __fish_seen_subcommand_from status" -l certificate-authority -d 'A PEM file of CA certificates to verify the API server with' -r -F
complete -c kubectl-nlb -n "__fish_kubectl_nlb_using_subcommand cutover; and __fish_seen_subcommand_from status" -l token -d 'Bearer token for the API server, instead of the kubeconfig user\'s credentials' -r
complete -c kubectl-nlb -n "__fish_kubectl_nlb_using_subcommand cutover; and __fish_seen_subcommand_from status" -l region -d 'AWS region (default: AWS_REGION, then the profile\'s region)' -r
complete -c kubectl-nlb -n "__fish_kubectl_nlb_using_subcommand cutover; and __fish_seen_subcommand_from status" -l profile -d 'AWS profile from ~/.aws/config (default: AWS_PROFILE, then "default")' -r
complete -c kubectl-nlb -n "__fish_kubectl_nlb_using_subcommand cutover; and __fish_seen_subcommand_from status" -l color -d 'When to colour output; NO_COLOR turns "auto" off' -r -f -a "auto\t''
always\t''
never\t''"
complete -c kubectl-nlb -n "__fish_kubectl_nlb_using_subcommand cutover; and __fish_seen_subcommand_from status" -l insecure-skip-tls-verify -d 'Do not verify the API server\'s certificate (insecure)'
complete -c kubectl-nlb -n "__fish_kubectl_nlb_using_subcommand cutover; and __fish_seen_subcommand_from status" -s v -l verbose -d 'Log more to stderr (-v, -vv, -vvv)'
complete -c kubectl-nlb -n "__fish_kubectl_nlb_using_subcommand cutover; and __fish_seen_subcommand_from status" -s h -l help -d 'Print help'
complete -c kubectl-nlb -n "__fish_kubectl_nlb_using_subcommand cutover; and __fish_seen_subcommand_from status" -s V -l version -d 'Print version'
complete -c kubectl-nlb -n "__fish_kubectl_nlb_using_subcommand cutover; and __fish_seen_subcommand_from resume" -l timeout -d 'Wait this long at most for each step (e.g. 10m); default: as journalled' -r
complete -c kubectl-nlb -n "__fish_kubectl_nlb_using_subcommand cutover; and __fish_seen_subcommand_from resume" -l dry-run -d 'Print what it would do (client) and change nothing; there is no server dry run here' -r -f -a "none\t''
client\t''
server\t''"
complete -c kubectl-nlb -n "__fish_kubectl_nlb_using_subcommand cutover; and __fish_seen_subcommand_from resume" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)' -r -F
complete -c kubectl-nlb -n "__fish_kubectl_nlb_using_subcommand cutover; and __fish_seen_subcommand_from resume" -l context -d 'The kubeconfig context to use' -r
complete -c kubectl-nlb -n "__fish_kubectl_nlb_using_subcommand cutover; and __fish_seen_subcommand_from resume" -l cluster -d 'The kubeconfig cluster to use' -r
complete -c kubectl-nlb -n "__fish_kubectl_nlb_using_subcommand cutover; and __fish_seen_subcommand_from resume" -l user -d 'The kubeconfig user to use' -r
complete -c kubectl-nlb -n "__fish_kubectl_nlb_using_subcommand cutover; and __fish_seen_subcommand_from resume" -s n -l namespace -d 'The namespace (default: the context\'s, then "default")' -r
complete -c kubectl-nlb -n "__fish_kubectl_nlb_using_subcommand cutover; and __fish_seen_subcommand_from resume" -l as -d 'Username to impersonate' -r
complete -c kubectl-nlb -n "__fish_kubectl_nlb_using_subcommand cutover; and __fish_seen_subcommand_from resume" -l as-group -d 'Group to impersonate (repeatable)' -r
complete -c kubectl-nlb -n "__fish_kubectl_nlb_using_subcommand cutover; and __fish_seen_subcommand_from resume" -l request-timeout -d 'How long to wait for one API request; 0 waits forever (e.g. 30s, 1m)' -r
complete -c kubectl-nlb -n "__fish_kubectl_nlb_using_subcommand cutover; and __fish_seen_subcommand_from resume" -s s -l server -d 'The address of the Kubernetes API server' -r
complete -c kubectl-nlb -n "__fish_kubectl_nlb_using_subcommand cutover; and __fish_seen_subcommand_from resume" -l certificate-authority -d 'A PEM file of CA certificates to verify the API server with' -r -F
complete -c kubectl-nlb -n "__fish_kubectl_nlb_using_subcommand cutover; and __fish_seen_subcommand_from resume" -l token -d 'Bearer token for the API server, instead of the kubeconfig user\'s credentials' -r
complete -c kubectl-nlb -n "__fish_kubectl_nlb_using_subcommand cutover; and __fish_seen_subcommand_from resume" -l region -d 'AWS region (default: AWS_REGION, then the profile\'s region)' -r
complete -c kubectl-nlb -n "__fish_kubectl_nlb_using_subcommand cutover; and __fish_seen_subcommand_from resume" -l profile -d 'AWS profile from ~/.aws/config (default: AWS_PROFILE, then "default")' -r
complete -c kubectl-nlb -n "__fish_kubectl_nlb_using_subcommand cutover; and __fish_seen_subcommand_from resume" -l color -d 'When to colour output; NO_COLOR turns "auto" off' -r -f -a "auto\t''
always\t''
never\t''"
complete -c kubectl-nlb -n "__fish_kubectl_nlb_using_subcommand cutover; and __fish_seen_subcommand_from resume" -l finalize -d 'Also collapse the records, wait for the drain and delete the old Service'
complete -c kubectl-nlb -n "__fish_kubectl_nlb_using_subcommand cutover; and __fish_seen_subcommand_from resume" -l adopt -d 'Carry on from the records as Route 53 holds them, after someone else edited them'
complete -c kubectl-nlb -n "__fish_kubectl_nlb_using_subcommand cutover; and __fish_seen_subcommand_from resume" -s y -l yes -d 'Do not ask for confirmation'
complete -c kubectl-nlb -n "__fish_kubectl_nlb_using_subcommand cutover; and __fish_seen_subcommand_from resume" -l insecure-skip-tls-verify -d 'Do not verify the API server\'s certificate (insecure)'
complete -c kubectl-nlb -n "__fish_kubectl_nlb_using_subcommand cutover; and __fish_seen_subcommand_from resume" -s v -l verbose -d 'Log more to stderr (-v, -vv, -vvv)'
complete -c kubectl-nlb -n "__fish_kubectl_nlb_using_subcommand cutover; and __fish_seen_subcommand_from resume" -s h -l help -d 'Print help'
complete -c kubectl-nlb -n "__fish_kubectl_nlb_using_subcommand cutover; and __fish_seen_subcommand_from resume" -s V -l version -d 'Print version'
complete -c kubectl-nlb -n "__fish_kubectl_nlb_using_subcommand cutover; and __fish_seen_subcommand_from abort" -l timeout -d 'Wait this long at most for each step (e.g. 10m); default: as journalled' -r
complete -c kubectl-nlb -n "__fish_kubectl_nlb_using_subcommand cutover; and __fish_seen_subcommand_from abort" -l dry-run -d 'Print what it would do (client) and change nothing; there is no server dry run here' -r -f -a "none\t''
client\t''
server\t''"
complete -c kubectl-nlb -n "__fish_kubectl_nlb_using_subcommand cutover; and __fish_seen_subcommand_from abort" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)' -r -F
complete -c kubectl-nlb -n "__fish_kubectl_nlb_using_subcommand cutover; and __fish_seen_subcommand_from abort" -l context -d 'The kubeconfig context to use' -r
complete -c kubectl-nlb -n "__fish_kubectl_nlb_using_subcommand cutover; and __fish_seen_subcommand_from abort" -l cluster -d 'The kubeconfig cluster to use' -r
complete -c kubectl-nlb -n "__fish_kubectl_nlb_using_subcommand cutover; and __fish_seen_subcommand_from abort" -l user -d 'The kubeconfig user to use' -r
complete -c kubectl-nlb -n "__fish_kubectl_nlb_using_subcommand cutover; and __fish_seen_subcommand_from abort" -s n -l namespace -d 'The namespace (default: the context\'s, then "default")' -r
complete -c kubectl-nlb -n "__fish_kubectl_nlb_using_subcommand cutover; and __fish_seen_subcommand_from abort" -l as -d 'Username to impersonate' -r
complete -c kubectl-nlb -n "__fish_kubectl_nlb_using_subcommand cutover; and __fish_seen_subcommand_from abort" -l as-group -d 'Group to impersonate (repeatable)' -r
complete -c kubectl-nlb -n "__fish_kubectl_nlb_using_subcommand cutover; and __fish_seen_subcommand_from abort" -l request-timeout -d 'How long to wait for one API request; 0 waits forever (e.g. 30s, 1m)' -r
complete -c kubectl-nlb -n "__fish_kubectl_nlb_using_subcommand cutover; and __fish_seen_subcommand_from abort" -s s -l server -d 'The address of the Kubernetes API server' -r
complete -c kubectl-nlb -n "__fish_kubectl_nlb_using_subcommand cutover; and __fish_seen_subcommand_from abort" -l certificate-authority -d 'A PEM file of CA certificates to verify the API server with' -r -F
complete -c kubectl-nlb -n "__fish_kubectl_nlb_using_subcommand cutover; and __fish_seen_subcommand_from abort" -l token -d 'Bearer token for the API server, instead of the kubeconfig user\'s credentials' -r
complete -c kubectl-nlb -n "__fish_kubectl_nlb_using_subcommand cutover; and __fish_seen_subcommand_from abort" -l region -d 'AWS region (default: AWS_REGION, then the profile\'s region)' -r
complete -c kubectl-nlb -n "__fish_kubectl_nlb_using_subcommand cutover; and __fish_seen_subcommand_from abort" -l profile -d 'AWS profile from ~/.aws/config (default: AWS_PROFILE, then "default")' -r
complete -c kubectl-nlb -n "__fish_kubectl_nlb_using_subcommand cutover; and __fish_seen_subcommand_from abort" -l color -d 'When to colour output; NO_COLOR turns "auto" off' -r -f -a "auto\t''
always\t''
never\t''"
complete -c kubectl-nlb -n "__fish_kubectl_nlb_using_subcommand cutover; and __fish_seen_subcommand_from abort" -s y -l yes -d 'Do not ask for confirmation'
complete -c kubectl-nlb -n "__fish_kubectl_nlb_using_subcommand cutover; and __fish_seen_subcommand_from abort" -l insecure-skip-tls-verify -d 'Do not verify the API server\'s certificate (insecure)'
complete -c kubectl-nlb -n "__fish_kubectl_nlb_using_subcommand cutover; and __fish_seen_subcommand_from abort" -s v -l verbose -d 'Log more to stderr (-v, -vv, -vvv)'
complete -c kubectl-nlb -n "__fish_kubectl_nlb_using_subcommand cutover; and __fish_seen_subcommand_from abort" -s h -l help -d 'Print help'
complete -c kubectl-nlb -n "__fish_kubectl_nlb_using_subcommand cutover; and __fish_seen_subcommand_from abort" -s V -l version -d 'Print version'
complete -c kubectl-nlb -n "__fish_kubectl_nlb_using_subcommand cutover; and __fish_seen_subcommand_from help" -f -a "status" -d 'Show where a switch stands: step, weights, last health reading, age'
complete -c kubectl-nlb -n "__fish_kubectl_nlb_using_subcommand cutover; and __fish_seen_subcommand_from help" -f -a "resume" -d 'Continue from the journal (after a crash, Ctrl-C, a timeout or a rollback)'
complete -c kubectl-nlb -n "__fish_kubectl_nlb_using_subcommand cutover; and __fish_seen_subcommand_from help" -f -a "abort" -d 'Restore the original DNS records exactly and delete the parallel Service'
complete -c kubectl-nlb -n "__fish_kubectl_nlb_using_subcommand cutover; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c kubectl-nlb -n "__fish_kubectl_nlb_using_subcommand migrate; and not __fish_seen_subcommand_from status resume abort help" -s f -l filename -d 'Read Service manifests from files (\'-\' for stdin; YAML, several documents, or JSON); needs no cluster' -r
complete -c kubectl-nlb -n "__fish_kubectl_nlb_using_subcommand migrate; and not __fish_seen_subcommand_from status resume abort help" -s l -l selector -d 'Plan the in-tree NLB Services matching this label selector' -r
complete -c kubectl-nlb -n "__fish_kubectl_nlb_using_subcommand migrate; and not __fish_seen_subcommand_from status resume abort help" -l new-name -d 'Name of the new Service (default: SERVICE-lbc)' -r
complete -c kubectl-nlb -n "__fish_kubectl_nlb_using_subcommand migrate; and not __fish_seen_subcommand_from status resume abort help" -l preserve-client-ip -d 'Set preserve_client_ip.enabled instead of keeping the source address the pods saw' -r -f -a "true\t''
false\t''"
complete -c kubectl-nlb -n "__fish_kubectl_nlb_using_subcommand migrate; and not __fish_seen_subcommand_from status resume abort help" -l dry-run -d 'Print the plan (client) or validate the new Service on the server (server); change nothing' -r -f -a "none\t''
client\t''
server\t''"
complete -c kubectl-nlb -n "__fish_kubectl_nlb_using_subcommand migrate; and not __fish_seen_subcommand_from status resume abort help" -s o -l output -d 'Print the migrated Service(s): yaml (report on stderr) or json (services and reports)' -r -f -a "yaml\t''
json\t''"
complete -c kubectl-nlb -n "__fish_kubectl_nlb_using_subcommand migrate; and not __fish_seen_subcommand_from status resume abort help" -l weights -d 'Percent of DNS answers for the new NLB after each step, ending at 100' -r
complete -c kubectl-nlb -n "__fish_kubectl_nlb_using_subcommand migrate; and not __fish_seen_subcommand_from status resume abort help" -l record -d 'Only move this record (default: every record in your zones that points at the NLB)' -r
complete -c kubectl-nlb -n "__fish_kubectl_nlb_using_subcommand migrate; and not __fish_seen_subcommand_from status resume abort help" -l zone -d 'The hosted zone, by id or name (default: search every zone you can list)' -r
complete -c kubectl-nlb -n "__fish_kubectl_nlb_using_subcommand migrate; and not __fish_seen_subcommand_from status resume abort help" -l soak -d 'How long to watch target health after each step (default: the records\' TTL, 60s for aliases)' -r
complete -c kubectl-nlb -n "__fish_kubectl_nlb_using_subcommand migrate; and not __fish_seen_subcommand_from status resume abort help" -l interval -d 'How often to read target health while soaking' -r
complete -c kubectl-nlb -n "__fish_kubectl_nlb_using_subcommand migrate; and not __fish_seen_subcommand_from status resume abort help" -l timeout -d 'The most to wait for any one step (NLB provisioning, targets, DNS sync)' -r
complete -c kubectl-nlb -n "__fish_kubectl_nlb_using_subcommand migrate; and not __fish_seen_subcommand_from status resume abort help" -l min-healthy-percent -d 'Share of each new target group\'s counted targets that must be healthy (draining ones are not counted)' -r
complete -c kubectl-nlb -n "__fish_kubectl_nlb_using_subcommand migrate; and not __fish_seen_subcommand_from status resume abort help" -l initial-grace -d 'How long a newly registered (initial) target is not counted (default: its health check interval × (healthy threshold + 2))' -r
complete -c kubectl-nlb -n "__fish_kubectl_nlb_using_subcommand migrate; and not __fish_seen_subcommand_from status resume abort help" -l drain -d 'How long to let clients leave the old NLB before deleting it (default: TTL + deregistration delay)' -r
complete -c kubectl-nlb -n "__fish_kubectl_nlb_using_subcommand migrate; and not __fish_seen_subcommand_from status resume abort help" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)' -r -F
complete -c kubectl-nlb -n "__fish_kubectl_nlb_using_subcommand migrate; and not __fish_seen_subcommand_from status resume abort help" -l context -d 'The kubeconfig context to use' -r
complete -c kubectl-nlb -n "__fish_kubectl_nlb_using_subcommand migrate; and not __fish_seen_subcommand_from status resume abort help" -l cluster -d 'The kubeconfig cluster to use' -r
complete -c kubectl-nlb -n "__fish_kubectl_nlb_using_subcommand migrate; and not __fish_seen_subcommand_from status resume abort help" -l user -d 'The kubeconfig user to use' -r
complete -c kubectl-nlb -n "__fish_kubectl_nlb_using_subcommand migrate; and not __fish_seen_subcommand_from status resume abort help" -s n -l namespace -d 'The namespace (default: the context\'s, then "default")' -r
complete -c kubectl-nlb -n "__fish_kubectl_nlb_using_subcommand migrate; and not __fish_seen_subcommand_from status resume abort help" -l as -d 'Username to impersonate' -r
complete -c kubectl-nlb -n "__fish_kubectl_nlb_using_subcommand migrate; and not __fish_seen_subcommand_from status resume abort help" -l as-group -d 'Group to impersonate (repeatable)' -r
complete -c kubectl-nlb -n "__fish_kubectl_nlb_using_subcommand migrate; and not __fish_seen_subcommand_from status resume abort help" -l request-timeout -d 'How long to wait for one API request; 0 waits forever (e.g. 30s, 1m)' -r
complete -c kubectl-nlb -n "__fish_kubectl_nlb_using_subcommand migrate; and not __fish_seen_subcommand_from status resume abort help" -s s -l server -d 'The address of the Kubernetes API server' -r
complete -c kubectl-nlb -n "__fish_kubectl_nlb_using_subcommand migrate; and not __fish_seen_subcommand_from status resume abort help" -l certificate-authority -d 'A PEM file of CA certificates to verify the API server with' -r -F
complete -c kubectl-nlb -n "__fish_kubectl_nlb_using_subcommand migrate; and not __fish_seen_subcommand_from status resume abort help" -l token -d 'Bearer token for the API server, instead of the kubeconfig user\'s credentials' -r
complete -c kubectl-nlb -n "__fish_kubectl_nlb_using_subcommand migrate; and not __fish_seen_subcommand_from status resume abort help" -l region -d 'AWS region (default: AWS_REGION, then the profile\'s region)' -r
complete -c kubectl-nlb -n "__fish_kubectl_nlb_using_subcommand migrate; and not __fish_seen_subcommand_from status resume abort help" -l profile -d 'AWS profile from ~/.aws/config (default: AWS_PROFILE, then "default")' -r
complete -c kubectl-nlb -n "__fish_kubectl_nlb_using_subcommand migrate; and not __fish_seen_subcommand_from status resume abort help" -l color -d 'When to colour output; NO_COLOR turns "auto" off' -r -f -a "auto\t''
always\t''
never\t''"
complete -c kubectl-nlb -n "__fish_kubectl_nlb_using_subcommand migrate; and not __fish_seen_subcommand_from status resume abort help" -s A -l all-namespaces -d 'Plan every in-tree NLB Service in all namespaces'
complete -c kubectl-nlb -n "__fish_kubectl_nlb_using_subcommand migrate; and not __fish_seen_subcommand_from status resume abort help" -l accept-new-addresses -d 'Accept new addresses for a Service with Elastic IPs or fixed private IPv4 addresses'
complete -c kubectl-nlb -n "__fish_kubectl_nlb_using_subcommand migrate; and not __fish_seen_subcommand_from status resume abort help" -l enable-readiness-gate -d 'Label the namespace elbv2.k8s.aws/pod-readiness-gate-inject=enabled first'
complete -c kubectl-nlb -n "__fish_kubectl_nlb_using_subcommand migrate; and not __fish_seen_subcommand_from status resume abort help" -s y -l yes -d 'Do not ask for confirmation'
complete -c kubectl-nlb -n "__fish_kubectl_nlb_using_subcommand migrate; and not __fish_seen_subcommand_from status resume abort help" -l finalize -d 'After the switch, collapse the records, wait for the drain, delete the old Service'
complete -c kubectl-nlb -n "__fish_kubectl_nlb_using_subcommand migrate; and not __fish_seen_subcommand_from status resume abort help" -l insecure-skip-tls-verify -d 'Do not verify the API server\'s certificate (insecure)'
complete -c kubectl-nlb -n "__fish_kubectl_nlb_using_subcommand migrate; and not __fish_seen_subcommand_from status resume abort help" -s v -l verbose -d 'Log more to stderr (-v, -vv, -vvv)'
complete -c kubectl-nlb -n "__fish_kubectl_nlb_using_subcommand migrate; and not __fish_seen_subcommand_from status resume abort help" -s h -l help -d 'Print help'
complete -c kubectl-nlb -n "__fish_kubectl_nlb_using_subcommand migrate; and not __fish_seen_subcommand_from status resume abort help" -s V -l version -d 'Print version'
complete -c kubectl-nlb -n "__fish_kubectl_nlb_using_subcommand migrate; and not __fish_seen_subcommand_from status resume abort help" -a "status" -d 'Show where a switch stands: step, weights, last health reading, age'
complete -c kubectl-nlb -n "__fish_kubectl_nlb_using_subcommand migrate; and not __fish_seen_subcommand_from status resume abort help" -a "resume" -d 'Continue from the journal (after a crash, Ctrl-C, a timeout or a rollback)'
complete -c kubectl-nlb -n "__fish_kubectl_nlb_using_subcommand migrate; and not __fish_seen_subcommand_from status resume abort help" -a "abort" -d 'Restore the original DNS records exactly and delete the parallel Service'
complete -c kubectl-nlb -n "__fish_kubectl_nlb_using_subcommand migrate; and not __fish_seen_subcommand_from status resume abort help" -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c kubectl-nlb -n "__fish_kubectl_nlb_using_subcommand migrate; and __fish_seen_subcommand_from status" -s o -l output -d 'Output format' -r -f -a "table\t''
yaml\t''
json\t''"
complete -c kubectl-nlb -n "__fish_kubectl_nlb_using_subcommand migrate; and __fish_seen_subcommand_from status" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)' -r -F
complete -c kubectl-nlb -n "__fish_kubectl_nlb_using_subcommand migrate; and __fish_seen_subcommand_from status" -l context -d 'The kubeconfig context to use' -r
complete -c kubectl-nlb -n "__fish_kubectl_nlb_using_subcommand migrate; and __fish_seen_subcommand_from status" -l cluster -d 'The kubeconfig cluster to use' -r
complete -c kubectl-nlb -n "__fish_kubectl_nlb_using_subcommand migrate; and __fish_seen_subcommand_from status" -l user -d 'The kubeconfig user to use' -r
complete -c kubectl-nlb -n "__fish_kubectl_nlb_using_subcommand migrate; and __fish_seen_subcommand_from status" -s n -l namespace -d 'The namespace (default: the context\'s, then "default")' -r
complete -c kubectl-nlb -n "__fish_kubectl_nlb_using_subcommand migrate; and __fish_seen_subcommand_from status" -l as -d 'Username to impersonate' -r
complete -c kubectl-nlb -n "__fish_kubectl_nlb_using_subcommand migrate; and __fish_seen_subcommand_from status" -l as-group -d 'Group to impersonate (repeatable)' -r
complete -c kubectl-nlb -n "__fish_kubectl_nlb_using_subcommand migrate; and __fish_seen_subcommand_from status" -l request-timeout -d 'How long to wait for one API request; 0 waits forever (e.g. 30s, 1m)' -r
complete -c kubectl-nlb -n "__fish_kubectl_nlb_using_subcommand migrate; and __fish_seen_subcommand_from status" -s s -l server -d 'The address of the Kubernetes API server' -r
complete -c kubectl-nlb -n "__fish_kubectl_nlb_using_subcommand migrate; and __fish_seen_subcommand_from status" -l certificate-authority -d 'A PEM file of CA certificates to verify the API server with' -r -F
complete -c kubectl-nlb -n "__fish_kubectl_nlb_using_subcommand migrate; and __fish_seen_subcommand_from status" -l token -d 'Bearer token for the API server, instead of the kubeconfig user\'s credentials' -r
complete -c kubectl-nlb -n "__fish_kubectl_nlb_using_subcommand migrate; and __fish_seen_subcommand_from status" -l region -d 'AWS region (default: AWS_REGION, then the profile\'s region)' -r
complete -c kubectl-nlb -n "__fish_kubectl_nlb_using_subcommand migrate; and __fish_seen_subcommand_from status" -l profile -d 'AWS profile from ~/.aws/config (default: AWS_PROFILE, then "default")' -r
complete -c kubectl-nlb -n "__fish_kubectl_nlb_using_subcommand migrate; and __fish_seen_subcommand_from status" -l color -d 'When to colour output; NO_COLOR turns "auto" off' -r -f -a "auto\t''
always\t''
never\t''"
complete -c kubectl-nlb -n "__fish_kubectl_nlb_using_subcommand migrate; and __fish_seen_subcommand_from status" -l insecure-skip-tls-verify -d 'Do not verify the API server\'s certificate (insecure)'
complete -c kubectl-nlb -n "__fish_kubectl_nlb_using_subcommand migrate; and __fish_seen_subcommand_from status" -s v -l verbose -d 'Log more to stderr (-v, -vv, -vvv)'
complete -c kubectl-nlb -n "__fish_kubectl_nlb_using_subcommand migrate; and __fish_seen_subcommand_from status" -s h -l help -d 'Print help'
complete -c kubectl-nlb -n "__fish_kubectl_nlb_using_subcommand migrate; and __fish_seen_subcommand_from status" -s V -l version -d 'Print version'
complete -c kubectl-nlb -n "__fish_kubectl_nlb_using_subcommand migrate; and __fish_seen_subcommand_from resume" -l timeout -d 'Wait this long at most for each step (e.g. 10m); default: as journalled' -r
complete -c kubectl-nlb -n "__fish_kubectl_nlb_using_subcommand migrate; and __fish_seen_subcommand_from resume" -l dry-run -d 'Print what it would do (client) and change nothing; there is no server dry run here' -r -f -a "none\t''
client\t''
server\t''"
complete -c kubectl-nlb -n "__fish_kubectl_nlb_using_subcommand migrate; and __fish_seen_subcommand_from resume" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)' -r -F
complete -c kubectl-nlb -n "__fish_kubectl_nlb_using_subcommand migrate; and __fish_seen_subcommand_from resume" -l context -d 'The kubeconfig context to use' -r
complete -c kubectl-nlb -n "__fish_kubectl_nlb_using_subcommand migrate; and __fish_seen_subcommand_from resume" -l cluster -d 'The kubeconfig cluster to use' -r
complete -c kubectl-nlb -n "__fish_kubectl_nlb_using_subcommand migrate; and __fish_seen_subcommand_from resume" -l user -d 'The kubeconfig user to use' -r
complete -c kubectl-nlb -n "__fish_kubectl_nlb_using_subcommand migrate; and __fish_seen_subcommand_from resume" -s n -l namespace -d 'The namespace (default: the context\'s, then "default")' -r
complete -c kubectl-nlb -n "__fish_kubectl_nlb_using_subcommand migrate; and __fish_seen_subcommand_from resume" -l as -d 'Username to impersonate' -r
complete -c kubectl-nlb -n "__fish_kubectl_nlb_using_subcommand migrate; and __fish_seen_subcommand_from resume" -l as-group -d 'Group to impersonate (repeatable)' -r
complete -c kubectl-nlb -n "__fish_kubectl_nlb_using_subcommand migrate; and __fish_seen_subcommand_from resume" -l request-timeout -d 'How long to wait for one API request; 0 waits forever (e.g. 30s, 1m)' -r
complete -c kubectl-nlb -n "__fish_kubectl_nlb_using_subcommand migrate; and __fish_seen_subcommand_from resume" -s s -l server -d 'The address of the Kubernetes API server' -r
complete -c kubectl-nlb -n "__fish_kubectl_nlb_using_subcommand migrate; and __fish_seen_subcommand_from resume" -l certificate-authority -d 'A PEM file of CA certificates to verify the API server with' -r -F
complete -c kubectl-nlb -n "__fish_kubectl_nlb_using_subcommand migrate; and __fish_seen_subcommand_from resume" -l token -d 'Bearer token for the API server, instead of the kubeconfig user\'s credentials' -r
complete -c kubectl-nlb -n "__fish_kubectl_nlb_using_subcommand migrate; and __fish_seen_subcommand_from resume" -l region -d 'AWS region (default: AWS_REGION, then the profile\'s region)' -r
complete -c kubectl-nlb -n "__fish_kubectl_nlb_using_subcommand migrate; and __fish_seen_subcommand_from resume" -l profile -d 'AWS profile from ~/.aws/config (default: AWS_PROFILE, then "default")' -r
complete -c kubectl-nlb -n "__fish_kubectl_nlb_using_subcommand migrate; and __fish_seen_subcommand_from resume" -l color -d 'When to colour output; NO_COLOR turns "auto" off' -r -f -a "auto\t''
always\t''
never\t''"
complete -c kubectl-nlb -n "__fish_kubectl_nlb_using_subcommand migrate; and __fish_seen_subcommand_from resume" -l finalize -d 'Also collapse the records, wait for the drain and delete the old Service'
complete -c kubectl-nlb -n "__fish_kubectl_nlb_using_subcommand migrate; and __fish_seen_subcommand_from resume" -l adopt -d 'Carry on from the records as Route 53 holds them, after someone else edited them'
complete -c kubectl-nlb -n "__fish_kubectl_nlb_using_subcommand migrate; and __fish_seen_subcommand_from resume" -s y -l yes -d 'Do not ask for confirmation'
complete -c kubectl-nlb -n "__fish_kubectl_nlb_using_subcommand migrate; and __fish_seen_subcommand_from resume" -l insecure-skip-tls-verify -d 'Do not verify the API server\'s certificate (insecure)'
complete -c kubectl-nlb -n "__fish_kubectl_nlb_using_subcommand migrate; and __fish_seen_subcommand_from resume" -s v -l verbose -d 'Log more to stderr (-v, -vv, -vvv)'
complete -c kubectl-nlb -n "__fish_kubectl_nlb_using_subcommand migrate; and __fish_seen_subcommand_from resume" -s h -l help -d 'Print help'
complete -c kubectl-nlb -n "__fish_kubectl_nlb_using_subcommand migrate; and __fish_seen_subcommand_from resume" -s V -l version -d 'Print version'
complete -c kubectl-nlb -n "__fish_kubectl_nlb_using_subcommand migrate; and __fish_seen_subcommand_from abort" -l timeout -d 'Wait this long at most for each step (e.g. 10m); default: as journalled' -r
complete -c kubectl-nlb -n "__fish_kubectl_nlb_using_subcommand migrate; and __fish_seen_subcommand_from abort" -l dry-run -d 'Print what it would do (client) and change nothing; there is no server dry run here' -r -f -a "none\t''
client\t''
server\t''"
complete -c kubectl-nlb -n "__fish_kubectl_nlb_using_subcommand migrate; and __fish_seen_subcommand_from abort" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)' -r -F
complete -c kubectl-nlb -n "__fish_kubectl_nlb_using_subcommand migrate; and __fish_seen_subcommand_from abort" -l context -d 'The kubeconfig context to use' -r
complete -c kubectl-nlb -n "__fish_kubectl_nlb_using_subcommand migrate; and __fish_seen_subcommand_from abort" -l cluster -d 'The kubeconfig cluster to use' -r
complete -c kubectl-nlb -n "__fish_kubectl_nlb_using_subcommand migrate; and __fish_seen_subcommand_from abort" -l user -d 'The kubeconfig user to use' -r
complete -c kubectl-nlb -n "__fish_kubectl_nlb_using_subcommand migrate; and __fish_seen_subcommand_from abort" -s n -l namespace -d 'The namespace (default: the context\'s, then "default")' -r
complete -c kubectl-nlb -n "__fish_kubectl_nlb_using_subcommand migrate; and __fish_seen_subcommand_from abort" -l as -d 'Username to impersonate' -r
complete -c kubectl-nlb -n "__fish_kubectl_nlb_using_subcommand migrate; and __fish_seen_subcommand_from abort" -l as-group -d 'Group to impersonate (repeatable)' -r
complete -c kubectl-nlb -n "__fish_kubectl_nlb_using_subcommand migrate; and __fish_seen_subcommand_from abort" -l request-timeout -d 'How long to wait for one API request; 0 waits forever (e.g. 30s, 1m)' -r
complete -c kubectl-nlb -n "__fish_kubectl_nlb_using_subcommand migrate; and __fish_seen_subcommand_from abort" -s s -l server -d 'The address of the Kubernetes API server' -r
complete -c kubectl-nlb -n "__fish_kubectl_nlb_using_subcommand migrate; and __fish_seen_subcommand_from abort" -l certificate-authority -d 'A PEM file of CA certificates to verify the API server with' -r -F
complete -c kubectl-nlb -n "__fish_kubectl_nlb_using_subcommand migrate; and __fish_seen_subcommand_from abort" -l token -d 'Bearer token for the API server, instead of the kubeconfig user\'s credentials' -r
complete -c kubectl-nlb -n "__fish_kubectl_nlb_using_subcommand migrate; and __fish_seen_subcommand_from abort" -l region -d 'AWS region (default: AWS_REGION, then the profile\'s region)' -r
complete -c kubectl-nlb -n "__fish_kubectl_nlb_using_subcommand migrate; and __fish_seen_subcommand_from abort" -l profile -d 'AWS profile from ~/.aws/config (default: AWS_PROFILE, then "default")' -r
complete -c kubectl-nlb -n "__fish_kubectl_nlb_using_subcommand migrate; and __fish_seen_subcommand_from abort" -l color -d 'When to colour output; NO_COLOR turns "auto" off' -r -f -a "auto\t''
always\t''
never\t''"
complete -c kubectl-nlb -n "__fish_kubectl_nlb_using_subcommand migrate; and __fish_seen_subcommand_from abort" -s y -l yes -d 'Do not ask for confirmation'
complete -c kubectl-nlb -n "__fish_kubectl_nlb_using_subcommand migrate; and __fish_seen_subcommand_from abort" -l insecure-skip-tls-verify -d 'Do not verify the API server\'s certificate (insecure)'
complete -c kubectl-nlb -n "__fish_kubectl_nlb_using_subcommand migrate; and __fish_seen_subcommand_from abort" -s v -l verbose -d 'Log more to stderr (-v, -vv, -vvv)'
complete -c kubectl-nlb -n "__fish_kubectl_nlb_using_subcommand migrate; and __fish_seen_subcommand_from abort" -s h -l help -d 'Print help'
complete -c kubectl-nlb -n "__fish_kubectl_nlb_using_subcommand migrate; and __fish_seen_subcommand_from abort" -s V -l version -d 'Print version'
complete -c kubectl-nlb -n "__fish_kubectl_nlb_using_subcommand migrate; and __fish_seen_subcommand_from help" -f -a "status" -d 'Show where a switch stands: step, weights, last health reading, age'
complete -c kubectl-nlb -n "__fish_kubectl_nlb_using_subcommand migrate; and __fish_seen_subcommand_from help" -f -a "resume" -d 'Continue from the journal (after a crash, Ctrl-C, a timeout or a rollback)'
complete -c kubectl-nlb -n "__fish_kubectl_nlb_using_subcommand migrate; and __fish_seen_subcommand_from help" -f -a "abort" -d 'Restore the original DNS records exactly and delete the parallel Service'
complete -c kubectl-nlb -n "__fish_kubectl_nlb_using_subcommand migrate; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c kubectl-nlb -n "__fish_kubectl_nlb_using_subcommand completion" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)' -r -F
complete -c kubectl-nlb -n "__fish_kubectl_nlb_using_subcommand completion" -l context -d 'The kubeconfig context to use' -r
complete -c kubectl-nlb -n "__fish_kubectl_nlb_using_subcommand completion" -l cluster -d 'The kubeconfig cluster to use' -r
complete -c kubectl-nlb -n "__fish_kubectl_nlb_using_subcommand completion" -l user -d 'The kubeconfig user to use' -r
complete -c kubectl-nlb -n "__fish_kubectl_nlb_using_subcommand completion" -s n -l namespace -d 'The namespace (default: the context\'s, then "default")' -r
complete -c kubectl-nlb -n "__fish_kubectl_nlb_using_subcommand completion" -l as -d 'Username to impersonate' -r
complete -c kubectl-nlb -n "__fish_kubectl_nlb_using_subcommand completion" -l as-group -d 'Group to impersonate (repeatable)' -r
complete -c kubectl-nlb -n "__fish_kubectl_nlb_using_subcommand completion" -l request-timeout -d 'How long to wait for one API request; 0 waits forever (e.g. 30s, 1m)' -r
complete -c kubectl-nlb -n "__fish_kubectl_nlb_using_subcommand completion" -s s -l server -d 'The address of the Kubernetes API server' -r
complete -c kubectl-nlb -n "__fish_kubectl_nlb_using_subcommand completion" -l certificate-authority -d 'A PEM file of CA certificates to verify the API server with' -r -F
complete -c kubectl-nlb -n "__fish_kubectl_nlb_using_subcommand completion" -l token -d 'Bearer token for the API server, instead of the kubeconfig user\'s credentials' -r
complete -c kubectl-nlb -n "__fish_kubectl_nlb_using_subcommand completion" -l region -d 'AWS region (default: AWS_REGION, then the profile\'s region)' -r
complete -c kubectl-nlb -n "__fish_kubectl_nlb_using_subcommand completion" -l profile -d 'AWS profile from ~/.aws/config (default: AWS_PROFILE, then "default")' -r
complete -c kubectl-nlb -n "__fish_kubectl_nlb_using_subcommand completion" -l color -d 'When to colour output; NO_COLOR turns "auto" off' -r -f -a "auto\t''
always\t''
never\t''"
complete -c kubectl-nlb -n "__fish_kubectl_nlb_using_subcommand completion" -l insecure-skip-tls-verify -d 'Do not verify the API server\'s certificate (insecure)'
complete -c kubectl-nlb -n "__fish_kubectl_nlb_using_subcommand completion" -s v -l verbose -d 'Log more to stderr (-v, -vv, -vvv)'
complete -c kubectl-nlb -n "__fish_kubectl_nlb_using_subcommand completion" -s h -l help -d 'Print help'
complete -c kubectl-nlb -n "__fish_kubectl_nlb_using_subcommand completion" -s V -l version -d 'Print version'
complete -c kubectl-nlb -n "__fish_kubectl_nlb_using_subcommand help; and not __fish_seen_subcommand_from audit bind-hostnetwork cutover migrate completion help" -f -a "audit" -d 'Report every LoadBalancer Service: owner, NLB, target groups, DNS, and findings (read-only)'
complete -c kubectl-nlb -n "__fish_kubectl_nlb_using_subcommand help; and not __fish_seen_subcommand_from audit bind-hostnetwork cutover migrate completion help" -f -a "bind-hostnetwork" -d 'Bind a hostNetwork workload to an NLB target group with a TargetGroupBinding'
complete -c kubectl-nlb -n "__fish_kubectl_nlb_using_subcommand help; and not __fish_seen_subcommand_from audit bind-hostnetwork cutover migrate completion help" -f -a "cutover" -d 'Change preserve_client_ip with zero downtime: a parallel Service, then health-gated Route 53 weights'
complete -c kubectl-nlb -n "__fish_kubectl_nlb_using_subcommand help; and not __fish_seen_subcommand_from audit bind-hostnetwork cutover migrate completion help" -f -a "migrate" -d 'Move legacy in-tree NLB Services to the AWS Load Balancer Controller in IP mode, without downtime'
complete -c kubectl-nlb -n "__fish_kubectl_nlb_using_subcommand help; and not __fish_seen_subcommand_from audit bind-hostnetwork cutover migrate completion help" -f -a "completion" -d 'Print a shell completion script for kubectl-nlb'
complete -c kubectl-nlb -n "__fish_kubectl_nlb_using_subcommand help; and not __fish_seen_subcommand_from audit bind-hostnetwork cutover migrate completion help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c kubectl-nlb -n "__fish_kubectl_nlb_using_subcommand help; and __fish_seen_subcommand_from cutover" -f -a "status" -d 'Show where a switch stands: step, weights, last health reading, age'
complete -c kubectl-nlb -n "__fish_kubectl_nlb_using_subcommand help; and __fish_seen_subcommand_from cutover" -f -a "resume" -d 'Continue from the journal (after a crash, Ctrl-C, a timeout or a rollback)'
complete -c kubectl-nlb -n "__fish_kubectl_nlb_using_subcommand help; and __fish_seen_subcommand_from cutover" -f -a "abort" -d 'Restore the original DNS records exactly and delete the parallel Service'
complete -c kubectl-nlb -n "__fish_kubectl_nlb_using_subcommand help; and __fish_seen_subcommand_from migrate" -f -a "status" -d 'Show where a switch stands: step, weights, last health reading, age'
complete -c kubectl-nlb -n "__fish_kubectl_nlb_using_subcommand help; and __fish_seen_subcommand_from migrate" -f -a "resume" -d 'Continue from the journal (after a crash, Ctrl-C, a timeout or a rollback)'
complete -c kubectl-nlb -n "__fish_kubectl_nlb_using_subcommand help; and __fish_seen_subcommand_from migrate" -f -a "abort" -d 'Restore the original DNS records exactly and delete the parallel Service'
