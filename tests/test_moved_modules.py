"""The module paths of clvkit 0.1 keep importing every name they exported (aliases of the new layout)."""

from __future__ import annotations

import importlib

import pytest

# Each module's __all__ in clvkit 0.1 (commit ec57ee4), when valuation/ was one flat folder.
OLD_EXPORTS: dict[str, str] = {
    "beta_geo": (
        "BetaGeo BetaGeoParams FittedBetaGeo "
    ),
    "beta_geo_beta_binom": (
        "BetaGeoBetaBinom BetaGeoBetaBinomParams FittedBetaGeoBetaBinom check_discrete_summary "
        "check_opportunities "
    ),
    "gamma_gamma": (
        "FittedGammaGamma GammaGamma GammaGammaParams "
    ),
    "modified_beta_geo": (
        "FittedModifiedBetaGeo ModifiedBetaGeo ModifiedBetaGeoParams "
    ),
    "pareto_nbd": (
        "FittedParetoNBD ParetoNBD ParetoNBDParams "
    ),
    "shifted_beta_geo": (
        "FittedShiftedBetaGeo ShiftedBetaGeo ShiftedBetaGeoParams "
    ),
    "clv": (
        "ClvResult SpendModel TransactionModel clv "
    ),
    "composite": (
        "SYNTHETIC_LABEL CompositeResult CompositeValue EquitySplit format_value_table read_referrals "
        "synthetic_referrals "
    ),
    "delivered_value": (
        "COST_COMPONENTS VALUE_COMPONENTS CustomerDeliveredValue DeliveredValueBatch "
    ),
    "direct": (
        "DirectValue DirectValueResult discounted_lifetime "
    ),
    "referral": (
        "AttributionRule ReferralAttribution ReferralGraph "
    ),
    "word_of_mouth": (
        "WORD_OF_MOUTH_SOURCE InfluencerReport InfluencerRule WordOfMouth WordOfMouthPrior influencers "
    ),
    "diagnostics": (
        "ConditionalExpectations CountModel FrequencyHistogram HoldoutEvaluation InformationCriteria "
        "LikelihoodRatioTest ModelComparison TrackingResult compare conditional_expectations "
        "frequency_histogram holdout_evaluation information_criteria likelihood_ratio_test tracking "
    ),
    "uncertainty": (
        "BootstrapResult ParameterIntervals PredictionIntervals clv_intervals parameter_intervals "
        "parametric_bootstrap prediction_intervals sample_parameters "
    ),
    "protocols": (
        "IndirectValueSource SpendModel TransactionModel ValueEngine engine_values load_engine "
    ),
}


@pytest.mark.parametrize("module", sorted(OLD_EXPORTS))
def test_every_01_module_path_still_imports_its_names(module: str) -> None:
    loaded = importlib.import_module(f"clvkit.valuation.{module}")
    missing = [name for name in OLD_EXPORTS[module].split() if not hasattr(loaded, name)]
    assert missing == []


def test_models_saved_by_clvkit_01_still_load() -> None:
    # tests/data/models_v0_1.json: every engine's to_json() written by clvkit 0.1 (commit ec57ee4), fitted on the
    # bundled CDNOW summary (sBG: the "regular" cohort; BG/BB: the donations data). They load into today's
    # classes with the same parameters and diagnostics, and AIC counts every parameter.
    import json
    import pathlib

    import clvkit

    documents = json.loads((pathlib.Path(__file__).parent / "data" / "models_v0_1.json").read_text(encoding="utf-8"))
    # The models clvkit 0.1 could save (models added later cannot be in its file); each must still be loadable.
    models_in_0_1 = {"BetaGeo", "BetaGeoBetaBinom", "GammaGamma", "ModifiedBetaGeo", "ParetoNBD", "ShiftedBetaGeo"}
    assert set(documents) == models_in_0_1
    assert models_in_0_1 <= set(clvkit.persistence.registered_models())
    for name, document in documents.items():
        model = clvkit.load_json(json.dumps(document))
        assert model.model_name == name
        assert model.params.model_dump() == document["params"]
        assert model.fit_info is not None and model.fit_info.n_params == len(document["params"])
        assert model.fit_info.aic == 2 * len(document["params"]) - 2 * document["fit_info"]["log_likelihood"]
