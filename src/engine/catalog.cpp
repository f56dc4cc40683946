// Catalogue and stock commands: idempotent like every command,
// and atomic through the same store transaction.

#include "engine_impl.hpp"

namespace orderly {

// Runs a command that concerns no order: authorize, replay a repeat, let
// `write_changes` add its writes, store the key, commit, retry a lost race.
result<command_outcome> engine::impl::on_store(const command_context& ctx, command what,
                                               std::uint64_t fingerprint,
                                               const store_mutation& write_changes) {
    if (auto key = detail::check_idempotency_key(ctx.idempotency_key); !key) {
        return std::move(key).error();
    }
    if (auto allowed = ports.policy.authorize(ctx.actor, what, nullptr); !allowed) {
        return std::move(allowed).error();
    }
    const std::string key = scoped_key(what, ctx.idempotency_key);
    for (unsigned attempt = 1;; ++attempt) {
        auto tx = begin(ctx);
        if (!tx) {
            return std::move(tx).error();
        }
        auto previous = replay(**tx, key, fingerprint);
        if (!previous) {
            return std::move(previous).error();
        }
        if (*previous) {
            return std::move(**previous);
        }
        auto outcome = write_changes(**tx);
        if (!outcome) {
            return std::move(outcome).error();
        }
        if (auto r = (*tx)->put_idempotency(idempotency_record{key, fingerprint, *outcome, now()});
            !r) {
            return std::move(r).error();
        }
        auto committed = (*tx)->commit();
        if (committed) {
            return outcome;
        }
        if (committed.error().code != errc::conflict || attempt >= options.conflict_retries) {
            return std::move(committed).error();
        }
    }
}

result<bool> engine::impl::on_catalog(
    const command_context& ctx, command what, std::uint64_t fingerprint,
    const std::function<result<void>(store_transaction&)>& write_changes) {
    auto done =
        on_store(ctx, what, fingerprint, [&](store_transaction& tx) -> result<command_outcome> {
            if (auto written = write_changes(tx); !written) {
                return std::move(written).error();
            }
            return command_outcome{};
        });
    if (!done) {
        return std::move(done).error();
    }
    return done->repeated;
}

result<void> engine::put_sku(const command_context& ctx, const sku& entry) {
    if (auto valid = validate(entry); !valid) {
        return valid;
    }
    const auto fingerprint = detail::fingerprint()
                                 .add(command::put_sku)
                                 .add(entry.id)
                                 .add(entry.merchant)
                                 .add(entry.name)
                                 .add(entry.category)
                                 .add(entry.price)
                                 .add(entry.weight_g)
                                 .add(entry.volume_cm3)
                                 .add(entry.traits.fragile)
                                 .add(entry.traits.liquid)
                                 .add(entry.traits.valuable)
                                 .add(entry.traits.restricted)
                                 .add(entry.status)
                                 .value();
    auto done = impl_->on_catalog(ctx, command::put_sku, fingerprint,
                                  [&](store_transaction& tx) { return tx.put_sku(entry); });
    if (!done) {
        return std::move(done).error();
    }
    return {};
}

namespace {

result<void> check_stock_target(const sku_id& sku, const warehouse_id& warehouse) {
    if (auto s = parse_id<sku_id>(sku.value()); !s) {
        return std::move(s).error().within("sku");
    }
    if (auto w = parse_id<warehouse_id>(warehouse.value()); !w) {
        return std::move(w).error().within("warehouse");
    }
    return {};
}

}  // namespace

// Read through the command's own kind of transaction, so a command inside a
// batch sees its batch's writes.
result<stock_level> engine::impl::stock_after(const command_context& ctx, const sku_id& sku,
                                              const warehouse_id& warehouse) {
    auto tx = begin(ctx);
    if (!tx) {
        return std::move(tx).error();
    }
    auto levels = (*tx)->find_stock(sku);
    if (!levels) {
        return std::move(levels).error();
    }
    for (stock_level& level : *levels) {
        if (level.warehouse == warehouse) {
            return std::move(level);
        }
    }
    return error{errc::not_found, "sku", fmt::format("no stock of '{}' in '{}'", sku, warehouse)};
}

result<stock_level> engine::receive_stock(const command_context& ctx,
                                          const stock_receipt& receipt) {
    if (auto valid = check_stock_target(receipt.sku, receipt.warehouse); !valid) {
        return std::move(valid).error();
    }
    if (receipt.units.is_zero()) {
        return error{errc::invalid_value, "units", "must be more than zero"};
    }
    const auto fingerprint = detail::fingerprint()
                                 .add(command::receive_stock)
                                 .add(receipt.sku)
                                 .add(receipt.warehouse)
                                 .add(receipt.units)
                                 .value();
    auto done = impl_->on_catalog(
        ctx, command::receive_stock, fingerprint, [&](store_transaction& tx) -> result<void> {
            auto known = tx.find_sku(receipt.sku);
            if (!known) {
                return std::move(known).error();
            }
            if (!*known) {
                return error{errc::not_found, "sku",
                             fmt::format("'{}' is not in the catalogue", receipt.sku)};
            }
            return tx.change_stock(stock_change{receipt.sku, receipt.warehouse,
                                                stock_operation::receive, receipt.units, "units",
                                                impl_->now()});
        });
    if (!done) {
        return std::move(done).error();
    }
    return impl_->stock_after(ctx, receipt.sku, receipt.warehouse);
}

result<stock_level> engine::set_safety_stock(const command_context& ctx,
                                             const safety_stock_setting& setting) {
    if (auto valid = check_stock_target(setting.sku, setting.warehouse); !valid) {
        return std::move(valid).error();
    }
    const auto fingerprint = detail::fingerprint()
                                 .add(command::set_safety_stock)
                                 .add(setting.sku)
                                 .add(setting.warehouse)
                                 .add(setting.units)
                                 .value();
    auto done =
        impl_->on_catalog(ctx, command::set_safety_stock, fingerprint, [&](store_transaction& tx) {
            return tx.change_stock(stock_change{setting.sku, setting.warehouse,
                                                stock_operation::set_safety, setting.units, "units",
                                                impl_->now()});
        });
    if (!done) {
        return std::move(done).error();
    }
    return impl_->stock_after(ctx, setting.sku, setting.warehouse);
}

}  // namespace orderly
