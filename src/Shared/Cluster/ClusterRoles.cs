namespace DeepGen.Distributed.Cluster;

/// <summary>Akka.Cluster role names and well-known actor names.</summary>
public static class ClusterRoles
{
    public const string Coordinator = "coordinator";
    public const string Worker = "worker";

    /// <summary>Name of the actor system on every node; nodes with other names cannot join.</summary>
    public const string SystemName = "deepgen";

    /// <summary>Path of the coordinator actor under /user.</summary>
    public const string CoordinatorActorName = "coordinator";

    /// <summary>Path of the worker actor under /user.</summary>
    public const string WorkerActorName = "worker";
}
