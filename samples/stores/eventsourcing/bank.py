"""A small money application written with the Python `eventsourcing` library (PyPI), saved by
the library's own PostgreSQL persistence module: the store `ledger-audit` audits with
samples/stores/eventsourcing/ledger-audit.yml.

Accounts are opened in USD, EUR and JPY; money is deposited, withdrawn and transferred between
accounts of one currency with a fee. One deposit carries more decimals than its currency allows
(the application does not check; an auditor must). Run with PERSISTENCE_MODULE=eventsourcing.postgres
and POSTGRES_DBNAME/HOST/PORT/USER/PASSWORD set. Prints, as JSON, every account's currency and
balance as the application's own aggregates report them, and the account with the bad amount.
"""
import json
import sys
from decimal import Decimal
from uuid import UUID

from eventsourcing.application import Application
from eventsourcing.domain import Aggregate, event


class Account(Aggregate):
    @event("Opened")
    def __init__(self, owner: str, currency: str):
        self.owner = owner
        self.currency = currency
        self.balance = Decimal("0")

    @event("Deposited")
    def deposit(self, amount: Decimal):
        self.balance += amount

    @event("Withdrawn")
    def withdraw(self, amount: Decimal):
        if amount > self.balance:
            raise ValueError("insufficient funds")
        self.balance -= amount

    @event("TransferSent")
    def send(self, amount: Decimal, fee: Decimal, to_account: UUID):
        if amount + fee > self.balance:
            raise ValueError("insufficient funds")
        self.balance -= amount + fee

    @event("TransferReceived")
    def receive(self, amount: Decimal, from_account: UUID):
        self.balance += amount


class Bank(Application):
    def open(self, owner: str, currency: str) -> UUID:
        account = Account(owner, currency)
        self.save(account)
        return account.id

    def deposit(self, account_id: UUID, amount: str):
        account = self.repository.get(account_id)
        account.deposit(Decimal(amount))
        self.save(account)

    def withdraw(self, account_id: UUID, amount: str):
        account = self.repository.get(account_id)
        account.withdraw(Decimal(amount))
        self.save(account)

    def transfer(self, source_id: UUID, destination_id: UUID, amount: str, fee: str):
        source = self.repository.get(source_id)
        destination = self.repository.get(destination_id)
        if source.currency != destination.currency:
            raise ValueError("a transfer stays in one currency")
        source.send(Decimal(amount), Decimal(fee), destination.id)
        destination.receive(Decimal(amount), source.id)
        self.save(source, destination)

    def balance(self, account_id: UUID):
        account = self.repository.get(account_id)
        return account.currency, account.balance


def main():
    bank = Bank()
    alice = bank.open("alice", "USD")
    bob = bank.open("bob", "USD")
    carol = bank.open("carol", "EUR")
    dave = bank.open("dave", "EUR")
    erin = bank.open("erin", "JPY")
    frank = bank.open("frank", "JPY")
    bank.deposit(alice, "1000.00")
    bank.deposit(bob, "250.5")
    bank.deposit(carol, "800")
    bank.deposit(dave, "12.34")
    bank.deposit(erin, "150000")
    bank.deposit(frank, "700")
    bank.transfer(alice, bob, "120.25", "1.20")
    bank.transfer(carol, dave, "99.99", "0.50")
    bank.transfer(erin, frank, "5000", "25")
    bank.withdraw(bob, "50.00")
    bank.withdraw(erin, "1000")
    for i in range(20):
        bank.deposit(alice, "%d.%02d" % (i + 1, i))
        bank.transfer(alice, bob, "0.%02d" % (i + 1), "0.01")
    # More decimals than USD allows: the application takes it, the audit must not.
    bank.deposit(bob, "10.505")
    accounts = {str(a): bank.balance(a) for a in (alice, bob, carol, dave, erin, frank)}
    json.dump({"accounts": {k: {"currency": c, "balance": str(b)} for k, (c, b) in accounts.items()},
               "bad_amount_account": str(bob), "bad_amount": "10.505"}, sys.stdout)


if __name__ == "__main__":
    main()
