"""The keeper's wiring: settings read from the environment (and the contract to watch), and the pipeline
built from them. The CLI commands and the bench build the keeper through here, so they run the same one."""

from __future__ import annotations

import os
from typing import Any

from keeper.audit_log import AuditLog
from keeper.chain import ChainClient
from keeper.claim_ownership import lease_config
from keeper.exchanges.registry import AdapterRegistry
from keeper.exchanges.verifier import Verifier
from keeper.metrics import KeeperMetrics
from keeper.pipeline import PassObserver, Pipeline, PipelineConfig
from keeper.settings import (
    AccountsFileError,
    DeploymentFileError,
    KeeperSettings,
    network_name,
    warn_unknown_variables,
)
from keeper.store import open_store
from operator_toolkit.deployment import deployment_path


class ConfigurationError(ValueError):
    """The keeper cannot start with what it was given; the message says what to fix."""


def pipeline_config(settings: KeeperSettings) -> PipelineConfig:
    return PipelineConfig(
        confirmations=settings.confirmations,
        start_block=settings.start_block,
        verify_batch_size=settings.verify_batch_size,
        payout_batch_size=settings.payout_batch_size,
        defer_base_seconds=settings.defer_base_seconds,
        defer_max_seconds=settings.defer_max_seconds,
        shard_count=settings.shard_count,
        shard_index=settings.shard_index,
        shard_takeover_seconds=settings.shard_takeover_seconds,
        lease=lease_config(settings),
    )


def build_pipeline(
    settings: KeeperSettings,
    contract: Any,
    sender: Any,
    chain_manager: Any,
    metrics: KeeperMetrics | None = None,
    *,
    chain: ChainClient | None = None,
    observer: PassObserver | None = None,
) -> Pipeline:
    """Wires the pipeline from settings; ape objects come from the caller (the CLI or a test). ``chain``: the
    chain client to use instead of one over ``contract``, ``sender`` and ``chain_manager``; ``observer``: told
    each step's time (the bench)."""
    verifier = Verifier(
        settings.account_registry(),
        AdapterRegistry(settings),
        settings.verify_workers,
        observe=None if metrics is None else metrics.observe_outcome,
    )
    return Pipeline(
        chain=ChainClient(contract, sender, chain_manager) if chain is None else chain,
        store=open_store(settings),
        audit=AuditLog(settings.audit_log_path),
        verifier=verifier,
        policy=settings.policy(),
        config=pipeline_config(settings),
        observer=observer,
    )


def load_settings(address: str | None, network: str | None = None) -> tuple[KeeperSettings, str]:
    """Settings for ``network`` (local defaults on ethereum:local:*) and the contract to watch."""
    warn_unknown_variables(os.environ)  # before a configuration error: a misspelt name may be its cause
    try:
        settings = KeeperSettings()
        if network is not None:
            settings = settings.for_network(network)
        contract_address = address or settings.resolved_contract_address(network)
    except (ValueError, AccountsFileError, DeploymentFileError) as exc:
        raise ConfigurationError(str(exc)) from None
    if contract_address is None:
        expected = ""
        if network is not None and (name := network_name(network)) is not None:
            expected = f" (none at {deployment_path(name, settings.deployments_dir)}: run `ape run deploy`)"
        raise ConfigurationError(
            "no contract: pass --contract, or set LG_CONTRACT_ADDRESS or LG_DEPLOYMENT_FILE" + expected
        )
    return settings, contract_address
