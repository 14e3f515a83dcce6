"""Field alerts: findings of the detectors (:mod:`hengqi.supervision.detectors`) grouped per instrument, detector and
day, with a workflow open -> acknowledged -> investigating -> closed (with a reason) in the audit trail."""
