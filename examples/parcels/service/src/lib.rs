//! An in-memory Parcels server: the generated `parcels-server` traits implemented in a
//! few lines each, with the router's checks (API key or access token, scopes, roles,
//! plan, limits, input rules) doing the rest. Every handler carries `#[route]`, checked
//! at compile time against this API's route table. It exists to show the toolkit
//! serving an API that is not 10x, with that API's own codes on the wire.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::SystemTime;

use parcels_server::{
    AuthContext, CreateParcel, DepotList, DepotsApi, ErrorCode, Failure, JwtContext, ListParcelsOrder,
    ListParcelsQuery, MoveKind, MoveRequest, PageLinks, Parcel, ParcelList, ParcelPatch, ParcelPriority, ParcelStatus,
    ParcelsApi, RequestContext, RouterBuilder, SaveSearchQuery, SearchRequest, Tracking, TrackingApi, Webhook, route,
};
use tenx_server_runtime::axum::Router;
use tenx_server_runtime::{JwtKeys, MemoryAuthData, ServerState};

/// The parcels of every account, and each account's webhook.
#[derive(Debug, Default)]
pub struct Parcels {
    state: Mutex<Store>,
}

#[derive(Debug, Default)]
struct Store {
    /// `(account, parcel id)` → parcel.
    parcels: BTreeMap<(String, String), Parcel>,
    /// `(account, parcel id)` → the courier's note and the parcel's photo.
    notes: BTreeMap<(String, String), String>,
    photos: BTreeMap<(String, String), Vec<u8>>,
    webhooks: BTreeMap<String, Webhook>,
    /// `(account, name)` → saved search, and whether it is pinned.
    searches: BTreeMap<(String, String), (SearchRequest, bool)>,
    next: u32,
}

impl Parcels {
    fn store(&self) -> MutexGuard<'_, Store> {
        // A panic while holding the lock leaves plain data behind, still consistent.
        self.state.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// One page holding every parcel found: its own link, no next page.
fn one_page(account: &str, what: &str, parcels: Vec<Parcel>) -> ParcelList {
    let now = tenx_server_runtime::guard::rfc3339(SystemTime::now());
    let links = PageLinks {
        self_: format!("https://api.parcels.example/v1/accounts/{account}/{what}"),
        next_page: None,
        created_at: now.clone(),
        created_at_2: now,
    };
    ParcelList { parcels, links }
}

fn no_such_parcel(id: &str) -> Failure {
    Failure::not_found(format!("Parcel `{id}`"))
}

/// A parcel that has arrived or was cancelled is settled: it may not change.
fn settled(parcel: &Parcel) -> Option<Failure> {
    matches!(parcel.status, ParcelStatus::Delivered | ParcelStatus::Cancelled).then(|| {
        Failure::new(
            ErrorCode::ParcelStateConflict,
            format!("Parcel `{}` is {:?}: it may not change.", parcel.id, parcel.status),
        )
    })
}

impl ParcelsApi for Parcels {
    #[route(auth = ["jwt", "pat"], scopes = ["parcels:read"], role = "viewer")]
    async fn list_parcels(
        &self,
        _cx: &RequestContext,
        _auth: AuthContext,
        account: String,
        query: ListParcelsQuery,
    ) -> Result<ParcelList, Failure> {
        let store = self.store();
        let tags = query.tag.unwrap_or_default();
        let mut parcels: Vec<Parcel> = store
            .parcels
            .iter()
            .filter(|((a, _), p)| {
                *a == account
                    && query.status.as_ref().is_none_or(|s| *s == p.status)
                    && tags.iter().all(|t| p.tags.contains(t))
            })
            .map(|(_, p)| p.clone())
            .collect();
        // Ids grow with creation, so id order is age order.
        if query.order == Some(ListParcelsOrder::Newest) {
            parcels.reverse();
        }
        Ok(one_page(&account, "parcels", parcels))
    }

    #[route(auth = ["jwt", "pat"], scopes = ["parcels:write"], role = "shipper")]
    async fn create_parcel(
        &self,
        _cx: &RequestContext,
        _auth: AuthContext,
        account: String,
        body: CreateParcel,
    ) -> Result<Parcel, Failure> {
        let mut store = self.store();
        store.next += 1;
        let n = store.next;
        let parcel = Parcel {
            id: format!("prc_{n:04}"),
            tracking_number: format!("PX{n:08}"),
            status: ParcelStatus::Created,
            weight_grams: body.weight_grams,
            depot: body.depot,
            tags: body.tags.unwrap_or_default(),
            priority: ParcelPriority::Normal,
            recipient: body.recipient,
            created_at: tenx_server_runtime::guard::rfc3339(SystemTime::now()),
        };
        store.parcels.insert((account, parcel.id.clone()), parcel.clone());
        Ok(parcel)
    }

    #[route(auth = ["jwt", "pat"], scopes = ["parcels:read"], role = "viewer")]
    async fn get_parcel(
        &self,
        _cx: &RequestContext,
        _auth: AuthContext,
        account: String,
        parcel_id: String,
    ) -> Result<Parcel, Failure> {
        self.store().parcels.get(&(account, parcel_id.clone())).cloned().ok_or_else(|| no_such_parcel(&parcel_id))
    }

    #[route(auth = ["jwt", "pat"], scopes = ["parcels:write"], role = "shipper")]
    async fn update_parcel(
        &self,
        _cx: &RequestContext,
        _auth: AuthContext,
        account: String,
        parcel_id: String,
        body: ParcelPatch,
    ) -> Result<Parcel, Failure> {
        let mut store = self.store();
        let parcel = store.parcels.get_mut(&(account, parcel_id.clone())).ok_or_else(|| no_such_parcel(&parcel_id))?;
        if let Some(failure) = settled(parcel) {
            return Err(failure);
        }
        if let Some(depot) = body.depot {
            parcel.depot = depot;
        }
        if let Some(tags) = body.tags {
            parcel.tags = tags;
        }
        if let Some(priority) = body.priority {
            parcel.priority = priority;
        }
        Ok(parcel.clone())
    }

    #[route(auth = "jwt", role = "admin")]
    async fn delete_parcel(
        &self,
        _cx: &RequestContext,
        _auth: JwtContext,
        account: String,
        parcel_id: String,
    ) -> Result<(), Failure> {
        self.store().parcels.remove(&(account, parcel_id.clone())).map(drop).ok_or_else(|| no_such_parcel(&parcel_id))
    }

    #[route(auth = ["jwt", "pat"], scopes = ["parcels:write"], role = "shipper")]
    async fn r#move(
        &self,
        _cx: &RequestContext,
        _auth: AuthContext,
        account: String,
        parcel_id: String,
        body: MoveRequest,
    ) -> Result<Parcel, Failure> {
        let mut store = self.store();
        let parcel = store.parcels.get_mut(&(account, parcel_id.clone())).ok_or_else(|| no_such_parcel(&parcel_id))?;
        if let Some(failure) = settled(parcel) {
            return Err(failure);
        }
        parcel.depot = body.to;
        parcel.status = match body.r#type {
            MoveKind::Transfer => ParcelStatus::InTransit,
            // A parcel returned to its sender is done with.
            MoveKind::Return => ParcelStatus::Cancelled,
        };
        Ok(parcel.clone())
    }

    #[route(auth = ["jwt", "pat"], scopes = ["parcels:write"], role = "shipper")]
    async fn put_note(
        &self,
        _cx: &RequestContext,
        _auth: AuthContext,
        account: String,
        parcel_id: String,
        body: String,
    ) -> Result<String, Failure> {
        let mut store = self.store();
        let key = (account, parcel_id.clone());
        if !store.parcels.contains_key(&key) {
            return Err(no_such_parcel(&parcel_id));
        }
        store.notes.insert(key, body.clone());
        Ok(body)
    }

    #[route(auth = ["jwt", "pat"], scopes = ["parcels:read"], role = "viewer")]
    async fn get_label(
        &self,
        _cx: &RequestContext,
        _auth: AuthContext,
        account: String,
        parcel_id: String,
    ) -> Result<Vec<u8>, Failure> {
        let store = self.store();
        let parcel = store.parcels.get(&(account, parcel_id.clone())).ok_or_else(|| no_such_parcel(&parcel_id))?;
        // A stand-in for a PDF: the magic number, then the tracking number and depot.
        let mut label = b"%PDF-1.7\n".to_vec();
        label.extend(format!("{} {}\n", parcel.tracking_number, parcel.depot).into_bytes());
        label.extend([0x00, 0xff, 0xfe]);
        Ok(label)
    }

    #[route(auth = ["jwt", "pat"], scopes = ["parcels:write"], role = "shipper")]
    async fn put_photo(
        &self,
        _cx: &RequestContext,
        _auth: AuthContext,
        account: String,
        parcel_id: String,
        body: Vec<u8>,
    ) -> Result<(), Failure> {
        let mut store = self.store();
        let key = (account, parcel_id.clone());
        if !store.parcels.contains_key(&key) {
            return Err(no_such_parcel(&parcel_id));
        }
        store.photos.insert(key, body);
        Ok(())
    }

    #[route(auth = ["jwt", "pat"], scopes = ["parcels:read"], role = "viewer")]
    async fn search_parcels(
        &self,
        _cx: &RequestContext,
        _auth: AuthContext,
        account: String,
        body: SearchRequest,
    ) -> Result<ParcelList, Failure> {
        let store = self.store();
        let q = body.query.as_str();
        let parcels = store
            .parcels
            .iter()
            .filter(|((a, _), p)| {
                *a == account
                    && (p.tracking_number.contains(q) || p.depot.contains(q) || p.tags.iter().any(|t| t.contains(q)))
            })
            .map(|(_, p)| p.clone())
            .collect();
        Ok(one_page(&account, "parcels:search", parcels))
    }

    #[route(auth = ["jwt", "pat"], scopes = ["parcels:read"], role = "viewer")]
    async fn save_search(
        &self,
        _cx: &RequestContext,
        _auth: AuthContext,
        account: String,
        query_: String,
        query: SaveSearchQuery,
        body: SearchRequest,
    ) -> Result<SearchRequest, Failure> {
        self.store().searches.insert((account, query_), (body.clone(), query.pinned.unwrap_or(false)));
        Ok(body)
    }

    #[route(auth = "jwt", role = "admin", feature = "webhooks")]
    async fn register_webhook(
        &self,
        _cx: &RequestContext,
        _auth: JwtContext,
        account: String,
        body: Webhook,
    ) -> Result<Webhook, Failure> {
        self.store().webhooks.insert(account, body.clone());
        Ok(body)
    }
}

impl DepotsApi for Parcels {
    #[route(auth = "jwt", role = "dispatcher")]
    async fn list_depots(&self, _cx: &RequestContext, _auth: JwtContext) -> Result<DepotList, Failure> {
        let store = self.store();
        let mut depots: Vec<String> = store.parcels.values().map(|p| p.depot.clone()).collect();
        depots.sort_unstable();
        depots.dedup();
        Ok(DepotList { depots })
    }
}

impl TrackingApi for Parcels {
    #[route(auth = "none")]
    async fn track(&self, _cx: &RequestContext, tracking_number: String) -> Result<Tracking, Failure> {
        let store = self.store();
        let parcel = store.parcels.values().find(|p| p.tracking_number == tracking_number);
        let parcel = parcel.ok_or_else(|| Failure::not_found(format!("Tracking number `{tracking_number}`")))?;
        Ok(Tracking { tracking_number, status: parcel.status })
    }
}

/// The router of a Parcels server over `data` (users, accounts, roles, plans, API keys).
pub fn app(data: Arc<MemoryAuthData>, jwt: JwtKeys) -> Router {
    let parcels = Arc::new(Parcels::default());
    RouterBuilder::new(ServerState::in_memory(&parcels_server::spec::SERVER_SPEC, data, jwt))
        .parcels(parcels.clone())
        .depots(parcels.clone())
        .tracking(parcels)
        .build()
}
