"""The reproduction report: every figure of both papers regenerated at one preset, each paper claim
judged from the figures' numbers by stated rules, on one static page (``modlab report``)."""

from modlab.report.build import Report, build_report
from modlab.report.claims import CLAIMS, Claim

__all__ = ["CLAIMS", "Claim", "Report", "build_report"]
