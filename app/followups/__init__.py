"""After the merge: what every hotfix owes, and the tracking issue that follows it to the end.

The cleanup PR, the postmortem, the audit review (and the breakglass cleanup when the role
was used) are recorded as follow-ups with owners and due times when the hotfix is merged
(``lifecycle.open_follow_ups``, run by the ``hotfix-recorded`` job), scheduled as reminder
and deadline jobs (``deadlines``), closed by a cleanup PR merged through the normal flow
(``cleanup``) or by ``/hotfix`` commands (``commands``), and shown in one tracking issue per
hotfix (``tracker``, ``body``).
"""
