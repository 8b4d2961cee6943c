"""Notifications: the program tells people what changed (docs/notifications.md).

:mod:`~catalog.notify.events` (events, observations, event sources), :mod:`~catalog.notify.sources`
(the program's own events), :mod:`~catalog.notify.rules` (who gets what by which channel),
:mod:`~catalog.notify.business_days`, :mod:`~catalog.notify.outbox` (states and messages in the
store), :mod:`~catalog.notify.digest` (e-mail), :mod:`~catalog.notify.smtp` and
:mod:`~catalog.notify.webhook` (the channels), :mod:`~catalog.notify.run` (one run) and
:mod:`~catalog.notify.commands` (``btvstat-open notify``).
"""
