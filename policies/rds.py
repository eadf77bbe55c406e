"""RDS for PostgreSQL policies."""

from __future__ import annotations

from pack_common import (
    UNKNOWN, About, Rules, as_list, expect, fmt_num, for_parameter_group_users, get, is_secret,
    label, number, one, parameters, per_resource, truthy,
)

INSTANCE = "aws:rds/instance:Instance"
PARAMETER_GROUP = "aws:rds/parameterGroup:ParameterGroup"
BACKUP_REPLICATION = ("aws:rds/instanceAutomatedBackupsReplication:"
                      "InstanceAutomatedBackupsReplication")


RETENTION_SCHEMA = {
    "minimumDays": {"type": "number", "minimum": 1, "maximum": 35, "default": 35,
                    "description": "Minimum backup retention in days for prod and dr-failover "
                                   "(default 35)."},
}


GUIDE = "https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/"
rules = Rules()


def is_restored(props) -> bool:
    pitr = one(get(props, "restoreToPointInTime"))
    return pitr is UNKNOWN or bool(pitr)


def is_read_replica(props) -> bool:
    src = get(props, "replicateSourceDb")
    return src is UNKNOWN or bool(src)


@rules.resource("aws-rds-instance-backup-retention", [INSTANCE],
                About("high", "reliability", GUIDE + "USER_WorkingWithAutomatedBackups.html"),
                config={**RETENTION_SCHEMA,
                        "drillMinimumDays": {"type": "number", "minimum": 1, "maximum": 35, "default": 7,
                                             "description": "Minimum backup retention in a dr-drill stack "
                                                            "(default 7)."}})
def _backup_retention(args, ctx, report):
    """RDS instances keep automated backups at least as long as the threshold."""
    if is_read_replica(args.props):
        return
    minimum = ctx.num("minimumDays") if ctx.serves_production else ctx.num("drillMinimumDays")
    days = get(args.props, "backupRetentionPeriod")
    if days is UNKNOWN:
        return
    n = number(days)
    if n is None or n < minimum:
        shown = "the AWS default (1 day)" if n is None else f"{fmt_num(n)} days"
        report(f"RDS instance '{args.name}' keeps automated backups for {shown}, below the "
               f"required {fmt_num(minimum)} days. Set backup_retention_period >= "
               f"{fmt_num(minimum)}.")


@rules.resource("aws-rds-instance-log-exports", [INSTANCE],
                About("medium", "operations", GUIDE + "USER_LogAccess.Procedural.UploadtoCloudWatch.html"),
                config={"requiredExports": {"type": "array", "items": {"type": "string"},
                                            "default": ["postgresql", "upgrade"],
                                            "description": "Log types that must be exported."}})
def _log_exports(args, ctx, report):
    """RDS instances export the postgresql and upgrade logs to CloudWatch."""
    v = get(args.props, "enabledCloudwatchLogsExports")
    if v is UNKNOWN:
        return
    have = {x for x in as_list(v) if isinstance(x, str)}
    missing = [x for x in ctx["requiredExports"] or [] if x not in have]
    if missing:
        report(f"RDS instance '{args.name}' does not export the {', '.join(missing)} log(s) to "
               "CloudWatch. Add them to enabled_cloudwatch_logs_exports.")


@rules.resource("aws-rds-instance-managed-master-password", [INSTANCE],
                About("critical", "security", GUIDE + "rds-secrets-manager.html"))
def _master_password(args, ctx, report):
    """The RDS master password is managed by RDS or comes from a secret."""
    managed = get(args.props, "manageMasterUserPassword")
    if managed is UNKNOWN or truthy(managed):
        return
    password = get(args.props, "password")
    if password is UNKNOWN:
        return
    if password is None:
        if is_restored(args.props) or is_read_replica(args.props) or get(
                args.props, "snapshotIdentifier"):
            return  # credentials come from the source
        report(f"RDS instance '{args.name}' has neither manage_master_user_password nor a "
               "password. Set manage_master_user_password=True.")
        return
    if not is_secret(password):
        report(f"RDS instance '{args.name}' takes its master password as a plain value. Set "
               "manage_master_user_password=True, or pass the password as a Pulumi secret "
               "(pulumi.Output.secret / a random.RandomPassword result).")


@rules.resource("aws-rds-parameter-group-force-ssl", [PARAMETER_GROUP],
                About("high", "security", GUIDE + "PostgreSQL.Concepts.General.SSL.html"))
def _parameter_group_force_ssl(args, ctx, report):
    """PostgreSQL parameter groups set rds.force_ssl=1."""
    family = get(args.props, "family")
    if family is UNKNOWN or not (isinstance(family, str) and family.startswith("postgres")):
        return
    value = parameters(args).get("rds.force_ssl")
    if value is UNKNOWN:
        return
    if str(value) != "1":
        report(f"RDS parameter group '{args.name}' does not set rds.force_ssl=1, so clients may "
               "connect without TLS. Add the parameter rds.force_ssl with value '1'.")


@rules.resource("aws-rds-backup-replication-encrypted", [BACKUP_REPLICATION],
                About("high", "reliability", GUIDE + "USER_ReplicateBackups.html"),
                config=RETENTION_SCHEMA)
def _backup_replication_kms(args, ctx, report):
    """Cross-region automated-backup replication uses a KMS key and keeps enough days."""
    expect(args, report, "kmsKeyId", bool,
           "RDS automated-backups replication '{name}' has no kms_key_id; replicating an "
           "encrypted instance needs a KMS key in the destination region. Set kms_key_id to the "
           "DR replica of the database key.")
    days = number(get(args.props, "retentionPeriod"))
    minimum = ctx.num("minimumDays")
    if days is not None and days < minimum:
        report(f"RDS automated-backups replication '{args.name}' keeps {fmt_num(days)} days, "
               f"below the required {fmt_num(minimum)}. Set retention_period >= "
               f"{fmt_num(minimum)}.")


# -- stack policies ------------------------------------------------------------------------------

def _unmanaged_group(inst, name) -> str:
    if not name:
        return (f"RDS instance {label(inst)} uses the default parameter group, which does not force "
                "TLS. Create an aws.rds.ParameterGroup with rds.force_ssl=1 and set parameter_group_name.")
    return (f"RDS instance {label(inst)} uses parameter group '{name}', which is not managed in this "
            "stack, so rds.force_ssl=1 cannot be verified. Use a parameter group from this stack "
            "with rds.force_ssl=1.")


def _may_be_postgres(instance) -> bool:
    """PostgreSQL, or an engine not known yet (judged again at `pulumi up`)."""
    engine = get(instance.props, "engine")
    return not isinstance(engine, str) or engine.startswith("postgres")


@rules.stack("aws-rds-instance-force-ssl-parameter-group",
             About("high", "security", GUIDE + "PostgreSQL.Concepts.General.SSL.html"))
def _uses_force_ssl_group(stack, ctx, report):
    """PostgreSQL instances use a parameter group from this stack with rds.force_ssl=1."""
    postgres = [i for i in stack.of(INSTANCE) if _may_be_postgres(i)]
    for_parameter_group_users(
        stack, postgres, PARAMETER_GROUP, "rds.force_ssl", lambda v: str(v) == "1", report,
        unmanaged=_unmanaged_group,
        wrong=lambda inst, g: (f"RDS instance {label(inst)} uses parameter group {label(g)}, which "
                               "does not set rds.force_ssl=1. Add that parameter."))


@rules.stack("aws-rds-instance-backups-replicated",
             About("high", "reliability", GUIDE + "USER_ReplicateBackups.html"))
def _backups_replicated(stack, ctx, report):
    """Primary RDS instances replicate automated backups to the DR region; DR instances restore from
    them.
    """
    replications = stack.of(BACKUP_REPLICATION)
    for inst in stack.of(INSTANCE):
        with per_resource():
            if is_read_replica(inst.props):
                continue
            restored = is_restored(inst.props)
            if ctx.is_dr:
                if not restored:
                    report(f"RDS instance {label(inst)} in a DR stack is not restored from the "
                           "replicated automated backups. Use restore_to_point_in_time with "
                           "source_db_instance_automated_backups_arn (the replicated backups in "
                           f"{ctx.dr_region}).", inst.urn)
                continue
            if restored:
                continue
            reps = [r for r in replications if stack.refers_to(r, "sourceDbInstanceArn", inst)]
            if not reps:
                report(f"RDS instance {label(inst)} has no cross-region automated-backups "
                       "replication. Add an aws.rds.InstanceAutomatedBackupsReplication with "
                       f"region {ctx.dr_region} and source_db_instance_arn set to its ARN.",
                       inst.urn)
                continue
            src_region = stack.region_of(inst)
            for r in reps:
                r_region = stack.region_of(r)
                if UNKNOWN in (r_region, src_region):
                    continue
                if r_region == src_region:
                    report(f"RDS backups replication {label(r)} is in the same region as its "
                           f"source ({src_region}). Create it in {ctx.dr_region}.", r.urn)


rules.declared("rds")  # its one-property policies: property_rules.yaml


POLICIES = rules.policies
